/**
 * What both webviews (side panel, .onnx inspector) share: their options (scripts on, resources
 * limited to dist/, media/ and the models' folders), their page, and how a registered model is
 * described to them (ModelRef with webview URIs the app fetches bytes from).
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelRef } from '../shared/protocol.js';
import type { RegisteredModel } from '../models/registeredModel.js';
import { makeNonce, webviewPage } from './webviewHtml.js';

export function baseRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')];
}

/** Folders holding a model's files and tokenizer (what the webview must be allowed to read). */
export function modelFolders(m: RegisteredModel): vscode.Uri[] {
  const uris = [...Object.values(m.files), ...Object.values(m.tokenizerFiles), ...(m.manifestUri ? [m.manifestUri] : [])];
  return uris.map((u) => vscode.Uri.joinPath(u, '..'));
}

function isUnder(child: vscode.Uri, parent: vscode.Uri): boolean {
  if (child.scheme !== parent.scheme || child.authority !== parent.authority) return false;
  const p = parent.path.endsWith('/') ? parent.path : `${parent.path}/`;
  return child.path === parent.path || child.path.startsWith(p);
}

export function coveredBy(roots: readonly vscode.Uri[], uri: vscode.Uri): boolean {
  return roots.some((r) => isUnder(uri, r));
}

/** Keeps the smallest set of roots: drops any folder already inside another. */
export function mergeRoots(roots: readonly vscode.Uri[]): vscode.Uri[] {
  const out: vscode.Uri[] = [];
  for (const r of [...roots].sort((a, b) => a.path.length - b.path.length)) {
    if (!coveredBy(out, r)) out.push(r);
  }
  return out;
}

export function webviewOptions(roots: readonly vscode.Uri[]): vscode.WebviewOptions {
  return { enableScripts: true, enableCommandUris: false, localResourceRoots: mergeRoots(roots) };
}

const preloads = new Map<string, readonly string[]>();

/** dist/webview-preload.json (written by esbuild.mjs), read once per extension folder; none if it is missing. */
function webviewPreloads(extensionUri: vscode.Uri): readonly string[] {
  const key = extensionUri.fsPath;
  let list = preloads.get(key);
  if (!list) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(join(key, 'dist', 'webview-preload.json'), 'utf8'));
      list = Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string' && /^webview-chunks\/[\w.-]+\.js$/.test(p)) : [];
    } catch {
      // Only a head start is lost: the bundle imports these chunks itself.
      list = [];
    }
    preloads.set(key, list);
  }
  return list;
}

export function pageFor(webview: vscode.Webview, extensionUri: vscode.Uri, mode: 'panel' | 'inspector', title: string): string {
  const uri = (...p: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...p)).toString();
  return webviewPage({
    cspSource: webview.cspSource,
    nonce: makeNonce((n) => new Uint8Array(randomBytes(n))),
    scriptUri: uri('dist', 'webview.js'),
    preloadUris: webviewPreloads(extensionUri).map((p) => uri('dist', ...p.split('/'))),
    wasmBase: `${uri('media', 'ort')}/`,
    mediaBase: `${uri('media')}/`,
    mode,
    title,
  });
}

export function wasmBaseFor(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return `${webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'ort')).toString()}/`;
}

/** `version`: the files' stamp from `modelFilesStamp` (a run passes it; the page reloads a model whose stamp changed). */
export function modelRefFor(webview: vscode.Webview, m: RegisteredModel, version?: string): ModelRef {
  const map = (r: Record<string, vscode.Uri>): Record<string, string> =>
    Object.fromEntries(Object.entries(r).map(([k, u]) => [k, webview.asWebviewUri(u).toString()]));
  return {
    id: m.id,
    label: m.label,
    architecture: m.architecture,
    source: m.source,
    fileUris: map(m.files),
    manifestUri: m.manifestUri ? webview.asWebviewUri(m.manifestUri).toString() : undefined,
    // A manifest derived from the folder (encoder-decoder exports) travels inline: there is no file to fetch.
    ...(m.manifest && !m.manifestUri ? { manifest: m.manifest } : {}),
    tokenizerUris: map(m.tokenizerFiles),
    sizeBytes: m.sizeBytes,
    ...(version ? { version } : {}),
  };
}
