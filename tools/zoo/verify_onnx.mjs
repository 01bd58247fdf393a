// Checks every exported zoo graph with onnxruntime-node against the PyTorch outputs that the
// generator saved in tools/zoo/.cache/refs/<model>/<file>.json (several batch sizes and lengths,
// so the dynamic axes are exercised too). Exits non-zero on any mismatch.
//   node tools/zoo/verify_onnx.mjs [model ...]
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const refs = join(root, 'tools', 'zoo', '.cache', 'refs');
const only = process.argv.slice(2);
const TOL = 1e-4;
let failed = 0;

function toTensor(t) {
  const data = t.dtype === 'int64' ? BigInt64Array.from(t.data.map((v) => BigInt(v))) : Float32Array.from(t.data);
  return new ort.Tensor(t.dtype, data, t.dims);
}

for (const model of readdirSync(refs).sort()) {
  if (only.length > 0 && !only.includes(model)) continue;
  for (const file of readdirSync(join(refs, model)).filter((f) => f.endsWith('.json')).sort()) {
    const ref = JSON.parse(readFileSync(join(refs, model, file), 'utf8'));
    const onnxPath = join(root, ref.model);
    if (!existsSync(onnxPath)) { console.log(`skip ${ref.model} (missing)`); continue; }
    const session = await ort.InferenceSession.create(onnxPath);
    let worst = 0;
    for (const c of ref.cases) {
      const feeds = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, toTensor(v)]));
      const out = await session.run(feeds);
      for (const [name, want] of Object.entries(c.outputs)) {
        const got = out[name];
        if (!got) throw new Error(`${ref.model}: no output ${name}`);
        if (got.dims.join(',') !== want.dims.join(',')) {
          console.log(`FAIL ${ref.model} ${name}: dims ${got.dims} != ${want.dims}`);
          failed++;
          continue;
        }
        for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(Number(got.data[i]) - want.data[i]));
      }
    }
    const ok = worst <= TOL;
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${ref.model}: ${ref.cases.length} cases, max |ort - torch| = ${worst.toExponential(2)}`);
  }
}
// Seq2seq: run the greedy loop the way the manifest describes it (encoder once, decoder step per token)
// on heldout.json and compare with the PyTorch predictions saved there.
const modelsDir = join(root, 'media', 'models');
for (const model of readdirSync(modelsDir).sort()) {
  if (only.length > 0 && !only.includes(model)) continue;
  const dir = join(modelsDir, model);
  if (!existsSync(join(dir, 'heldout.json'))) continue;
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const srcVocab = JSON.parse(readFileSync(join(dir, manifest.tokenizer.vocab), 'utf8'));
  const tgtVocab = JSON.parse(readFileSync(join(dir, manifest.io.targetTokenizer.vocab), 'utf8'));
  const enc = await ort.InferenceSession.create(join(dir, manifest.files.encoder));
  const dec = await ort.InferenceSession.create(join(dir, manifest.files.decoder));
  const io = manifest.io;
  const held = JSON.parse(readFileSync(join(dir, 'heldout.json'), 'utf8'));
  let same = 0;
  let correct = 0;
  for (const pair of held.pairs) {
    const ids = [...pair.source].map((c) => { const i = srcVocab.indexOf(c); return i < 0 ? manifest.tokenizer.unk : i; });
    const encOut = await enc.run({ [io.encoder.ids]: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) });
    let state = io.encoder.state ? encOut[io.encoder.state] : undefined;
    const tokens = [io.bos];
    let text = '';
    for (let step = 0; step < io.maxTargetLength; step++) {
      const feeds = {};
      if (io.decoder.tokensMode === 'previous') {
        feeds[io.decoder.tokens] = new ort.Tensor('int64', BigInt64Array.from([BigInt(tokens[tokens.length - 1])]), [1, 1]);
      } else {
        feeds[io.decoder.tokens] = new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [1, tokens.length]);
      }
      if (io.decoder.stateIn) feeds[io.decoder.stateIn] = state;
      if (io.decoder.encoderOut) feeds[io.decoder.encoderOut] = encOut[io.encoder.outputs];
      const out = await dec.run(feeds);
      if (io.decoder.stateOut) state = out[io.decoder.stateOut];
      const logits = out[io.decoder.logits];
      const v = logits.dims[logits.dims.length - 1];
      const last = logits.data.subarray(logits.data.length - v);
      let best = 0;
      for (let i = 1; i < v; i++) if (last[i] > last[best]) best = i;
      if (best === io.eos) break;
      tokens.push(best);
      text += tgtVocab[best];
    }
    if (text === pair.predicted) same++;
    if (text === pair.target) correct++;
  }
  const ok = same === held.pairs.length;
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${model} greedy loop: ${same}/${held.pairs.length} equal to PyTorch, exact match ${correct}/${held.pairs.length}`);
}
process.exit(failed > 0 ? 1 : 0);
