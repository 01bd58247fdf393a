/**
 * The page's side of "Sequential vs parallel": fetches the zoo's RNN, LSTM, GRU and Transformer from the
 * extension's media folder (a local resource root of every Sequence Lens webview) and times them with core's
 * measureStory on the backend the panel runs on (the Runner's). Where WebGPU cannot run one of them (it
 * lacks some recurrent kernels) the whole sweep runs on WASM instead, and says so, so that the four curves
 * always come from one engine.
 */
import { measureStory, type StoryModel } from '../../src/core/bench/sequentialParallel.js';
import { storyLengths, type StoryResult } from '../../src/core/bench/storyRows.js';
import { parseManifest } from '../../src/core/manifest.js';
import { SeqLensError } from '../../src/core/errors.js';
import type { StoryRequest } from '../data/storyData.js';
import { OrtWebBackend } from './ortWebBackend.js';
import type { Runner } from './runner.js';

/** Zoo folders of the story, in plotting order. */
export const STORY_ZOO = ['rnn', 'lstm', 'gru', 'transformer'] as const;

async function fetchOk(url: string, signal: AbortSignal): Promise<Response> {
  const res = await fetch(url, { signal });
  if (!res.ok) throw new SeqLensError('runtime', `Could not read ${url} (HTTP ${res.status}).`);
  return res;
}

/** The four zoo models' bytes and manifest length caps, from `${mediaBase}models/<name>/`. */
export async function fetchStoryModels(mediaBase: string, signal: AbortSignal): Promise<StoryModel[]> {
  const base = mediaBase.endsWith('/') ? mediaBase : `${mediaBase}/`;
  return Promise.all(STORY_ZOO.map(async (name) => {
    const dir = new URL(`models/${name}/`, base);
    const manifest = parseManifest(await (await fetchOk(new URL('manifest.json', dir).toString(), signal)).json());
    const file = manifest.files.model;
    if (!file) throw new SeqLensError('bad-manifest', `The zoo model ${name} has no one-file model.`);
    const bytes = new Uint8Array(await (await fetchOk(new URL(file, dir).toString(), signal)).arrayBuffer());
    return { name, bytes, manifestMaxLength: manifest.maxLength };
  }));
}

export interface PageStoryResult extends StoryResult {
  /** Set when the page's backend was WebGPU and the sweep ran on WASM instead: why. */
  fallbackReason?: string;
}

export async function measureStoryOnPage(runner: Runner, mediaBase: string, req: StoryRequest): Promise<PageStoryResult> {
  const models = await fetchStoryModels(mediaBase, req.signal);
  const backend = await runner.ensureBackend();
  const run = (b: OrtWebBackend): Promise<StoryResult> => measureStory({
    backend: b, models, lengths: storyLengths(req.maxTokens), repeats: req.repeats,
    signal: req.signal, onProgress: req.onProgress, onRow: req.onRow,
  });
  try {
    return await run(backend);
  } catch (e) {
    if (backend.name !== 'webgpu' || req.signal.aborted || (e instanceof SeqLensError && e.code !== 'runtime')) throw e;
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    req.onProgress({ message: `WebGPU could not run the sweep (${why}); measuring on WASM`, fraction: 0 });
    // onnxruntime-web is loaded and configured by now (the WebGPU attempt loaded it): a second EP needs no setup.
    const wasm = new OrtWebBackend('wasm');
    try {
      return { ...(await run(wasm)), fallbackReason: why };
    } finally {
      await wasm.dispose();
    }
  }
}
