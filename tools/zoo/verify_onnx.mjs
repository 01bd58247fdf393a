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
process.exit(failed > 0 ? 1 : 0);
