/**
 * Host-side inspection of a model's bytes with src/core (pure TypeScript, no vscode/Node deps):
 * what the tree view shows (architecture, what can be probed) and the first check that turns a
 * corrupt file into a clear message before any webview is involved. Cached per file version.
 */
import * as vscode from 'vscode';
import type { Architecture } from '../core/types.js';
import { decodeModel } from '../core/onnx/decode.js';
import { summarize } from '../core/onnx/summarize.js';
import { describeError } from '../host/log.js';

export interface ModelInspection {
  /** 'unknown' when the bytes decode but the architecture is not recognised (or not yet detected). */
  architecture: Architecture;
  /** One line per fact: "inputs: ids int64 [batch, seq]", "12 Softmax", ... */
  facts: string[];
  /** What can be probed, e.g. "attention ×2 layers ×4 heads", "hidden states", "gates". */
  probes: string[];
  parameterCount?: number;
  /** Set when the file is not a usable ONNX model; the message says why, in the user's words. */
  error?: string;
}

function shapeText(shape: (number | string | null)[] | undefined): string {
  return shape ? `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '[?]';
}

/** Inspects ONNX bytes; never throws. */
export function inspectOnnxBytes(bytes: Uint8Array, fileName: string): ModelInspection {
  try {
    const model = decodeModel(bytes, fileName);
    const summary = summarize(model, bytes.byteLength);
    const facts = [
      ...summary.inputs.map((t) => `input ${t.name}: ${t.type} ${shapeText(t.shape)}`),
      ...summary.outputs.map((t) => `output ${t.name}: ${t.type} ${shapeText(t.shape)}`),
      `${summary.nodeCount} nodes, ${summary.parameterCount.toLocaleString('en-US')} parameters`,
    ];
    const ops = summary.opHistogram;
    const probes: string[] = [];
    let architecture: Architecture = 'unknown';
    // Until the core's architecture detector is wired in, recurrent ops name themselves.
    for (const [op, arch] of [['LSTM', 'lstm'], ['GRU', 'gru'], ['RNN', 'rnn']] as const) {
      if (ops[op]) {
        architecture = arch;
        probes.push(`${op} ×${ops[op]}: hidden states${op === 'RNN' ? '' : ', gates'}`);
      }
    }
    if (ops.Softmax) probes.push(`Softmax ×${ops.Softmax}: attention candidates`);
    return { architecture, facts, probes, parameterCount: summary.parameterCount };
  } catch (e) {
    return { architecture: 'unknown', facts: [], probes: [], error: describeError(e) };
  }
}

interface CacheEntry { mtime: number; size: number; result: ModelInspection }

export class ModelInspector {
  private readonly cache = new Map<string, CacheEntry>();

  async inspect(uri: vscode.Uri): Promise<ModelInspection> {
    const name = uri.path.split('/').pop() ?? uri.fsPath;
    let stat: vscode.FileStat;
    try {
      stat = await vscode.workspace.fs.stat(uri);
    } catch (e) {
      return { architecture: 'unknown', facts: [], probes: [], error: `Cannot read ${name}: ${describeError(e)}` };
    }
    const hit = this.cache.get(uri.toString());
    if (hit && hit.mtime === stat.mtime && hit.size === stat.size) return hit.result;
    let result: ModelInspection;
    try {
      result = inspectOnnxBytes(await vscode.workspace.fs.readFile(uri), name);
    } catch (e) {
      result = { architecture: 'unknown', facts: [], probes: [], error: `Cannot read ${name}: ${describeError(e)}` };
    }
    this.cache.set(uri.toString(), { mtime: stat.mtime, size: stat.size, result });
    return result;
  }
}
