/**
 * Where a run goes when `sequenceLens.backend` is 'auto' (or 'native'): the page's onnxruntime-web, or
 * onnxruntime-node beside the extension host. Pure Node (no vscode): the host passes what it knows.
 *
 * The rule (auto): native when onnxruntime-node loads AND one of
 *  - the model's weights (its .onnx files plus the external data they name) exceed NATIVE_AUTO_MIN_BYTES;
 *  - the window is remote (VS Code Remote, code-server) and the model keeps weights in external data files,
 *    or weighs more than NATIVE_AUTO_REMOTE_MIN_BYTES: the page would pull every byte across the connection first;
 *  - the webview already failed to run this model (not a cancel);
 *  - the page's onnxruntime-web is not loaded yet (a new window's first run, or a page VS Code dropped while
 *    hidden): loading it takes 2-8 s, a native run of a small model well under one. The page loads the model
 *    behind that run and takes the next ones.
 * Otherwise the webview, as before (WebGPU on a hardware adapter, else WASM).
 */
import { open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { decodeModel, externalDataFiles } from '../core/onnx/decode.js';

/**
 * Weights above which 'auto' runs natively. How it was set: onnxruntime-web in the page holds a model about
 * three times over at session creation (the fetched bytes, core's instrumented copy, and the copy inside the
 * 32-bit WebAssembly heap, which ends at 4 GB); WASM in Node peaked at 2.4× the file for the 2.5 GB bench
 * decoder (shared note). With the page's JS heap and the heap's own growth (doubling), models past about
 * 1 GB fail or stall in the webview; 256 MB keeps a margin of four and is where session creation in the page
 * passes a few seconds. To re-measure: bench/ with the generated decoder at widths that give 64 MB … 2 GB of
 * weights, time right-click → heatmap on wasm and native in code-server and take the smallest size where
 * native is faster end to end (its transfer to the panel included) or the page fails.
 */
export const NATIVE_AUTO_MIN_BYTES = 256 * 2 ** 20;

/**
 * Weights above which 'auto' runs natively in a remote window (code-server, SSH, containers, WSL), where the page
 * fetches every byte of the model across the connection before its first run. Measured in the E2E (code-server
 * on loopback, this 2-core machine): the page fetched the 81.4 MB bench decoder in 21.1 s (3.9 MB/s) and its
 * 11.4 MB tokenizer.json in 6.2 s, a cold click → heatmap of 36.8 s; the same model runs cold natively in 3.9 s
 * (`seqlens trace`: session 1.5 s beside a 3.3 s tokenizer parse). At that rate 16 MB takes about 4 s to
 * fetch, as long as a whole native run of the 80 MB model; below it (the zoo: 0.7 MB) the page stays.
 */
export const NATIVE_AUTO_REMOTE_MIN_BYTES = 16 * 2 ** 20;

/** .onnx files up to this size are read to find the external data they name (larger ones keep weights inline). */
const GRAPH_READ_MAX_BYTES = 64 * 2 ** 20;

export interface ModelWeight {
  /** The .onnx files plus their external data files, in bytes. */
  bytes: number;
  /** External data files named by the graphs (existing or not). */
  externalFiles: number;
}

/** The weight of these .onnx files (absolute paths) and the external data they name, read without the weights. */
export async function modelWeight(onnxPaths: readonly string[]): Promise<ModelWeight> {
  let bytes = 0;
  let externalFiles = 0;
  for (const p of onnxPaths) {
    let size: number;
    try {
      size = (await stat(p)).size;
    } catch {
      continue;
    }
    bytes += size;
    if (size > GRAPH_READ_MAX_BYTES) continue;
    let locations: string[];
    try {
      const fh = await open(p, 'r');
      try {
        const buf = new Uint8Array(size);
        await fh.read(buf, 0, size, 0);
        locations = [...externalDataFiles(decodeModel(buf, p)).keys()];
      } finally {
        await fh.close();
      }
    } catch {
      // Not decodable here: the run says why.
      continue;
    }
    externalFiles += locations.length;
    for (const loc of locations) {
      try {
        bytes += (await stat(resolve(dirname(p), loc))).size;
      } catch {
        // A missing external file: the run names it.
      }
    }
  }
  return { bytes, externalFiles };
}

export interface ChoiceInput {
  setting: 'auto' | 'webgpu' | 'wasm' | 'native';
  weight: ModelWeight;
  /** vscode.env.remoteName (undefined: a local window). */
  remoteName?: string;
  /** Why onnxruntime-node cannot run here (undefined: it loads). */
  nativeUnavailable?: string;
  /** The webview's failure on this model earlier in the session. */
  webviewFailed?: string;
  /** The page's onnxruntime-web has not finished loading (or there is no page yet). */
  pageCold?: boolean;
}

export type Choice =
  /** `forCold`: native only because the page was not ready; the page could run this model itself. */
  | { where: 'native'; why: string; forCold?: boolean }
  | { where: 'webview'; why?: string; warning?: string };

const mb = (n: number): string => `${(n / 2 ** 20).toFixed(n < 10 * 2 ** 20 ? 1 : 0)} MB`;

export function chooseBackend(c: ChoiceInput): Choice {
  if (c.setting === 'native') {
    if (c.nativeUnavailable) {
      return { where: 'webview', warning: `The native backend is not available (${c.nativeUnavailable}); this run used the webview instead.` };
    }
    return { where: 'native', why: 'Setting sequenceLens.backend is "native": onnxruntime-node beside the extension host; the page only draws.' };
  }
  if (c.setting !== 'auto' || c.nativeUnavailable) return { where: 'webview' };
  const w = c.weight;
  if (w.bytes > NATIVE_AUTO_MIN_BYTES) {
    return { where: 'native', why: `Auto: the model's weights (${mb(w.bytes)}${w.externalFiles ? ` with ${w.externalFiles} external data file${w.externalFiles > 1 ? 's' : ''}` : ''}) exceed ${mb(NATIVE_AUTO_MIN_BYTES)}, more than the webview runs well.` };
  }
  if (w.externalFiles && c.remoteName) {
    return { where: 'native', why: `Auto: the model keeps its weights in external data and this window is remote (${c.remoteName}): running beside the files sends the page no weights.` };
  }
  if (w.bytes > NATIVE_AUTO_REMOTE_MIN_BYTES && c.remoteName) {
    return { where: 'native', why: `Auto: this window is remote (${c.remoteName}) and the model weighs ${mb(w.bytes)}: running beside the files sends the page no weights (over ${mb(NATIVE_AUTO_REMOTE_MIN_BYTES)}, fetching them costs more than the native run).` };
  }
  if (c.webviewFailed) return { where: 'native', why: `Auto: the webview could not run this model (${c.webviewFailed}).` };
  if (c.pageCold) {
    return {
      where: 'native', forCold: true,
      why: 'Auto: the panel\'s onnxruntime-web was still loading (seconds, once per page), so onnxruntime-node beside the extension host made this run; the panel loads the model meanwhile and runs the next ones itself.',
    };
  }
  return { where: 'webview' };
}
