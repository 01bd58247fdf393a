/** The host keeps only well-formed token summaries from the webview before colouring the editor. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cleanTokens } from '../../src/editor/tokenSummaries.js';
import { formatBytes, missingTokenizerMessage } from '../../src/models/registeredModel.js';

const text = 'let x = 1;';

describe('token summaries from the webview', () => {
  it('keeps well-formed tokens as they are', () => {
    const tokens = [
      { start: 0, end: 3, text: 'let', score: 0.5, attends: [{ index: 0, weight: 1 }], predictions: [{ text: ' ', p: 0.9 }] },
      { start: 4, end: 5, text: 'x', score: 0.25, attends: [], predictions: [] },
    ];
    assert.deepEqual(cleanTokens(tokens, text.length), tokens);
  });

  it('drops tokens outside the text, empty or reversed spans, and non-objects', () => {
    const out = cleanTokens([
      null, 'x', 42,
      { start: 8, end: 12, text: '1; ', score: 1 },
      { start: 5, end: 5, text: '', score: 1 },
      { start: 6, end: 4, text: '', score: 1 },
      { start: -1, end: 2, text: 'le', score: 1 },
      { start: 0, end: 1, text: 'l', score: '1' },
      { start: 9, end: 10, text: ';', score: 0.1 },
    ], text.length);
    assert.deepEqual(out.map((t) => [t.start, t.end]), [[9, 10]]);
  });

  it('filters malformed attends and predictions and caps them at 8', () => {
    const [t] = cleanTokens([{
      start: 0, end: 1, score: 0,
      attends: [{ index: 1, weight: 0.5 }, { index: 'a', weight: 1 }, null, ...Array.from({ length: 10 }, (_, i) => ({ index: i, weight: 0 }))],
      predictions: [{ text: 'a' }, { text: 'b', p: 0.2 }],
    }], text.length);
    assert.equal(t.text, '');
    assert.equal(t.attends.length, 8);
    assert.deepEqual(t.attends[0], { index: 1, weight: 0.5 });
    assert.deepEqual(t.predictions, [{ text: 'b', p: 0.2 }]);
  });
});

describe('registry wording', () => {
  it('tells what to add when a model has no tokenizer', () => {
    const msg = missingTokenizerMessage('models/no-tokenizer/gru-encoder.onnx');
    assert.match(msg, /^No tokenizer found for gru-encoder\.onnx\./);
    assert.match(msg, /tokenizer\.json beside it/);
    assert.match(msg, /gru-encoder\.seqlens\.json/);
    assert.match(msg, /"path": "models\/no-tokenizer\/gru-encoder\.onnx"/);
  });

  it('formats sizes the way the quick pick shows them', () => {
    assert.equal(formatBytes(65), '65 B');
    assert.equal(formatBytes(228292), '223 KB');
    assert.equal(formatBytes(26_781_234), '25.5 MB');
  });
});
