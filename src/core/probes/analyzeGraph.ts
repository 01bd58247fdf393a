/**
 * One pass over a model that every public entry shares (planProbes, detectArchitecture): the
 * graph index (with the taken branch of If nodes inlined where it is known before the run),
 * attention sites, hidden-state streams.
 */
import { indexGraph, type GraphIndex } from '../onnx/graphIndex.js';
import type { GraphProto, ModelProto } from '../onnx/decode.js';
import { SeqLensError } from '../errors.js';
import type { Unavailable } from '../types.js';
import { findAttentionSites, type AttentionSite, type FindOptions } from './attentionSites.js';
import { hiddenStreams, type StreamHidden } from './hiddenProbes.js';
import { inlineKnownIfs, type InlinedBranches } from './subgraphs.js';
import { firstRunFlags } from '../cacheInputs.js';
import { tensorSummary } from '../onnx/summarize.js';

export interface GraphAnalysis {
  model: ModelProto;
  /** Index of the graph as stored. */
  index: GraphIndex;
  /** Index of the graph plus the inlined branches of Ifs with a known condition (what the probe rules walk). */
  extended: GraphIndex;
  inlined: InlinedBranches;
  sites: AttentionSite[];
  streams: StreamHidden[];
  /** Rules that threw on this graph, as unavailable entries. */
  failures: Unavailable[];
}

export interface AnalyzeOptions extends FindOptions {
  /**
   * Values the run feeds to inputs that decide If conditions, by input name. Default: what the first
   * run feeds (cacheInputs.ts: `use_cache_branch` false), which is what run/feeds.ts sends.
   */
  inputValues?: Readonly<Record<string, readonly number[]>>;
}

const cache = new WeakMap<ModelProto, Map<string, GraphAnalysis>>();

export function analyzeGraph(model: ModelProto, opts: AnalyzeOptions = {}, index?: GraphIndex): GraphAnalysis {
  const key = `${opts.role ?? ''}|${opts.inputValues ? JSON.stringify(opts.inputValues) : ''}`;
  const hit = cache.get(model)?.get(key);
  if (hit) return hit;
  const graph = model.graph;
  if (!graph) throw new SeqLensError('not-onnx', 'The model holds no graph.');
  const base = index ?? indexGraph(graph);
  const known = opts.inputValues ? new Map(Object.entries(opts.inputValues)) : firstRunFlags(graph.input.map(tensorSummary));
  const inlined = inlineKnownIfs(base, known);
  let extended = base;
  if (inlined.nodes.length) {
    const g: GraphProto = Object.assign(Object.create(Object.getPrototypeOf(graph) as object) as GraphProto, graph, {
      node: [...graph.node, ...inlined.nodes],
      initializer: [...graph.initializer, ...inlined.initializers],
    });
    extended = indexGraph(g);
  }
  // Every file is hostile input: a rule that trips over an odd graph degrades to "not found"
  // with the reason, instead of taking the whole inspection down.
  const failures: Unavailable[] = [];
  const guard = <T>(what: string, f: () => T, fallback: T): T => {
    try {
      return f();
    } catch (e) {
      failures.push({ what, reason: `the probe rule failed on this graph: ${e instanceof Error ? e.message : String(e)}` });
      return fallback;
    }
  };
  const sites = guard('attention', () => findAttentionSites(extended, model, opts), []);
  const streams = guard('hidden states', () => hiddenStreams(extended, sites), []);
  const result: GraphAnalysis = { model, index: base, extended, inlined, sites, streams, failures };
  let m = cache.get(model);
  if (!m) {
    m = new Map();
    cache.set(model, m);
  }
  m.set(key, result);
  return result;
}
