/**
 * The walkthrough's manifest entry, samples and media agree with its step table
 * (src/shared/walkthroughSteps.ts), and the zoo date models' held-out accuracy parses into the curve
 * the Compare view draws. The buttons themselves are clicked in test/e2e/walkthrough.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { stepRange, WALKTHROUGH_ID, WALKTHROUGH_RUN_STEPS, WALKTHROUGH_STEP_IDS } from '../../src/shared/walkthroughSteps.js';
import { parseHeldout } from '../../webview/data/heldoutAccuracy.js';

interface Step { id: string; description: string; media: { image: Record<string, string> }; completionEvents: string[] }
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { walkthroughs: { id: string; steps: Step[] }[] } };

test('package.json: the walkthrough has the table\'s steps, each with a button to its step and light and dark media', () => {
  const w = pkg.contributes.walkthroughs.find((x) => x.id === WALKTHROUGH_ID);
  assert.ok(w);
  assert.deepEqual(w.steps.map((s) => s.id), [...WALKTHROUGH_STEP_IDS]);
  for (const s of w.steps) {
    assert.ok(s.description.includes(`(command:sequenceLens.walkthroughStep?${encodeURIComponent(JSON.stringify([s.id]))})`), `${s.id}: button`);
    for (const theme of ['light', 'dark', 'hc', 'hcLight']) {
      const file = s.media.image[theme];
      assert.ok(file && existsSync(file), `${s.id}: ${theme} image ${file}`);
      assert.ok(statSync(file).size < 160 * 1024, `${file} is small`);
    }
    assert.deepEqual(s.completionEvents, [`onContext:sequenceLens.walkthrough.${s.id}`]);
  }
});

test('each step\'s span is in its sample and fits its models\' maxLength', () => {
  for (const [id, step] of Object.entries(WALKTHROUGH_RUN_STEPS)) {
    const text = readFileSync(`media/walkthrough/samples/${step.sample}`, 'utf8');
    const r = stepRange(text, step);
    assert.ok(r, `${id}: span in ${step.sample}`);
    const models: string[] = 'compareWith' in step ? [step.model, step.compareWith] : [step.model];
    for (const m of models) {
      const { maxLength } = JSON.parse(readFileSync(`media/models/${m.replace('zoo:', '')}/manifest.json`, 'utf8')) as { maxLength: number };
      assert.ok(r.end - r.start <= maxLength, `${id}: ${r.end - r.start} characters fit ${m} (${maxLength})`);
    }
  }
});

test('held-out accuracy: the zoo date models\' curves parse, anything else is ignored', () => {
  for (const m of ['dates-gru', 'dates-gru-attention']) {
    const curve = parseHeldout(JSON.parse(readFileSync(`media/models/${m}/heldout.json`, 'utf8')));
    assert.ok(curve && curve.buckets.length >= 5, m);
    assert.ok(curve.buckets.every((b, i) => i === 0 || b.lo > curve.buckets[i - 1].hi));
  }
  const plain = parseHeldout(JSON.parse(readFileSync('media/models/dates-gru/heldout.json', 'utf8')))!;
  const attention = parseHeldout(JSON.parse(readFileSync('media/models/dates-gru-attention/heldout.json', 'utf8')))!;
  assert.ok(attention.overall! > plain.overall!, 'attention beats the bottleneck overall');
  for (const bad of [null, 3, {}, { accuracyByLength: [{ lengths: '1-10', n: 5, exactMatch: 2 }] }, { accuracyByLength: [{ lengths: 'x', n: 5, exactMatch: 0.5 }] }]) {
    assert.equal(parseHeldout(bad), undefined);
  }
});
