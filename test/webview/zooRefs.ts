/** ModelRefs for zoo models as the harness serves them (what the host would send, with http URIs). */
import { readFileSync } from 'node:fs';
import type { ModelRef } from '../../src/shared/protocol.js';
import type { Architecture } from '../../src/core/types.js';

/** `dir`: the model's folder relative to the harness root (default: the zoo's). */
export function zooRef(origin: string, name: string, dir = `media/models/${name}`): ModelRef {
  const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8')) as { name: string; architecture: Architecture; files: Record<string, string>; tokenizer: { vocab?: string; file?: string }; io: { targetTokenizer?: { vocab?: string; file?: string } } };
  const fileUris: Record<string, string> = {};
  for (const [k, rel] of Object.entries(manifest.files)) fileUris[k] = `${origin}/${dir}/${rel}`;
  const tokenizerUris: Record<string, string> = {};
  for (const t of [manifest.tokenizer, manifest.io.targetTokenizer]) {
    const rel = t?.vocab ?? t?.file;
    if (rel) tokenizerUris[rel] = `${origin}/${dir}/${rel}`;
  }
  return { id: `zoo:${name}`, label: manifest.name, architecture: manifest.architecture, source: 'zoo', fileUris, manifestUri: `${origin}/${dir}/manifest.json`, tokenizerUris, sizeBytes: 0 };
}
