/**
 * Where loading a big tokenizer.json goes (the 80 MB bench decoder's: Qwen3's, 151,669 ids, 11.4 MB), parts
 * side by side in one process, interleaved: JSON.parse, @huggingface/tokenizers' own Tokenizer on the parsed
 * file, and Sequence Lens's HfTokenizer (parse + checks + the library + what it reads for offsets), with the
 * share that is ours. Its checks walked every vocabulary entry and merge (Object.entries, a stack entry per
 * merge) and built the library's whole vocabulary Map to find the largest id: 1,891 ms for the HfTokenizer then,
 * 1,217 ms after (1.55x, median of 5, in one run against the earlier commit's file; the E2E was running beside).
 * Run: node --import tsx bench/tokenizerLoad.ts [--reps N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { HfTokenizer } from '../src/core/tokenize/hfTokenizer.js';
import { tokenizerJsonPath } from './makeBenchDecoder.js';
import { median } from './benchSupport.js';

const fmt = (v: number): string => `${v.toFixed(0)} ms`;

const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' } } });
const reps = Number(values.reps);
const text = readFileSync(tokenizerJsonPath(), 'utf8');
const parse: number[] = [], library: number[] = [], ours: number[] = [];
for (let i = 0; i < reps; i++) {
  let t = performance.now();
  const json = JSON.parse(text) as Record<string, unknown>;
  parse.push(performance.now() - t);
  t = performance.now();
  new Tokenizer({ normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json }, {});
  library.push(performance.now() - t);
  t = performance.now();
  const tok = HfTokenizer.fromJson(text);
  ours.push(performance.now() - t);
  if (tok.vocabSize !== 151669) throw new Error(`vocabulary of ${tok.vocabSize}, expected 151,669`);
}
const [p, l, o] = [median(parse), median(library), median(ours)];
console.log(`tokenizer.json ${(text.length / 1e6).toFixed(1)} MB (Qwen3, 151,669 ids), median of ${reps}, interleaved:`);
console.log(`  JSON.parse ${fmt(p)}; the library's Tokenizer ${fmt(l)}; HfTokenizer.fromJson (all of it) ${fmt(o)}`);
console.log(`  HfTokenizer ÷ (JSON.parse + library): ${(o / (p + l)).toFixed(2)}x; Sequence Lens's own share ${fmt(Math.max(0, o - p - l))}`);
