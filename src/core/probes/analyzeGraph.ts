/**
 * One pass over a model that every public entry shares (planProbes, detectArchitecture): the
 * graph index (with constant-condition If branches inlined), attention sites, hidden-state streams.
 */
import { indexGraph, type GraphIndex } from '../onnx/graphIndex.js';
import type { GraphProto, ModelProto } from '../onnx/decode.js';
import { SeqLensError } from '../errors.js';
import type { Unavailable } from '../types.js';
import { findAttentionSites, type AttentionSite, type FindOptions } from './attentionSites.js';
import { hiddenStreams, type StreamHidden } from './hiddenProbes.js';
import { inlineConstantIfs, type InlinedBranches } from './subgraphs.js';

export interface GraphAnalysis {
  model: ModelProto;
  /** Index of the graph as stored. */
  index: GraphIndex;
  /** Index of the graph plus inlined constant-If branches (what the probe rules walk). */
  extended: GraphIndex;
  inlined: InlinedBranches;
  sites: AttentionSite[];
  streams: StreamHidden[];
  /** Rules that threw on this graph, as unavailable entries. */
  failures: Unavailable[];
}

export type AnalyzeOptions = FindOptions;

const cache = new WeakMap<ModelProto, Map<string, GraphAnalysis>>();

export function analyzeGraph(model: ModelProto, opts: AnalyzeOptions = {}, index?: GraphIndex): GraphAnalysis {
  const key = opts.role ?? '';
  const hit = cache.get(model)?.get(key);
  if (hit) return hit;
  const graph = model.graph;
  if (!graph) throw new SeqLensError('not-onnx', 'The model holds no graph.');
  const base = index ?? indexGraph(graph);
  const inlined = inlineConstantIfs(base);
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
