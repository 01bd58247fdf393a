// `npm run package:all`: one .vsix per platform onnxruntime-node carries binaries for (read from
// node_modules/onnxruntime-node/bin/napi-v<N>/<platform>/<arch>/), each with only that platform's binaries
// (`vsce package --target`), plus the universal WASM-only one, into dist-vsix/. Each is checked: at most
// 40 MB (scripts/vsixSize.mjs), and its file list holds exactly its own platform's files in
// extension/dist/native/<platform>-<arch>/ (scripts/nativeFiles.mjs; none in the universal one).
// Prints a table of sizes and exits 1 when any check fails. dist/ is rebuilt for this machine at the end
// (`node esbuild.mjs`, as `npm run build` leaves it).
//   node scripts/packageTargets.mjs [--only linux-x64,win32-x64] [--no-universal]
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, readSync, closeSync, fstatSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NATIVE_FILES, ortNodeTargets } from './nativeFiles.mjs';

const OUT = 'dist-vsix';
const LIMIT = 40 * 2 ** 20;
/** vsce's own list (@vscode/vsce out/package.js `Targets`): a `<platform>-<arch>` outside it cannot be published. */
const VSCE_TARGETS = new Set(['win32-x64', 'win32-arm64', 'linux-x64', 'linux-arm64', 'linux-armhf', 'darwin-x64', 'darwin-arm64', 'alpine-x64', 'alpine-arm64']);
const VSCE_FLAGS = ['--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links'];

const argv = process.argv.slice(2);
const onlyArg = argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set(argv[onlyArg + 1]?.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
const universal = !argv.includes('--no-universal');

/** The names in a zip's central directory (a .vsix is a zip; no unzip needed). */
function zipEntries(file) {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const tailLen = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLen);
    readSync(fd, tail, 0, tailLen, size - tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) if (tail.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
    if (eocd < 0) throw new Error(`${file}: not a zip (no end of central directory)`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const cd = Buffer.alloc(cdSize);
    readSync(fd, cd, 0, cdSize, cdOffset);
    const entries = [];
    for (let p = 0, i = 0; i < count; i++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${i}`);
      const compressed = cd.readUInt32LE(p + 20);
      const uncompressed = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      entries.push({ name: cd.toString('utf8', p + 46, p + 46 + nameLen), compressed, uncompressed });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

/** What is wrong with a package's native files: none, or a list of problems. */
function checkNative(entries, target) {
  const native = entries.filter((e) => e.name.startsWith('extension/dist/native/')).map((e) => e.name.slice('extension/dist/native/'.length));
  if (target === 'universal') return native.length ? [`carries native files: ${native.join(', ')}`] : [];
  const platform = target.split('-')[0];
  const want = (NATIVE_FILES[platform] ?? []).map((f) => `${target}/${f}`);
  const problems = [];
  for (const f of want) if (!native.includes(f)) problems.push(`lacks dist/native/${f}`);
  for (const f of native) if (!want.includes(f)) problems.push(`carries dist/native/${f}, not one of ${target}'s files`);
  return problems;
}

function run(cmd, args) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32' });
}

const vsce = join('node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');
const found = ortNodeTargets();
if (!found.length) {
  console.error('No onnxruntime-node binaries in node_modules/onnxruntime-node/bin/ (npm install first).');
  process.exit(1);
}
const targets = [];
for (const t of found) {
  if (only && !only.has(t)) continue;
  if (!VSCE_TARGETS.has(t)) console.warn(`skipped ${t}: not a VS Code target`);
  else if (!NATIVE_FILES[t.split('-')[0]]) console.warn(`skipped ${t}: scripts/nativeFiles.mjs does not say which files its binding needs`);
  else targets.push(t);
}
if (only) for (const t of only) if (!found.includes(t)) console.warn(`skipped ${t}: onnxruntime-node has no binaries for it`);

mkdirSync(OUT, { recursive: true });
const rows = [];
for (const target of [...targets, ...(universal ? ['universal'] : [])]) {
  const file = join(OUT, `sequence-lens-${target}.vsix`);
  rmSync(file, { force: true });
  run(process.execPath, ['esbuild.mjs', '--production', '--native', target === 'universal' ? 'none' : target]);
  run(vsce, ['package', ...(target === 'universal' ? [] : ['--target', target]), ...VSCE_FLAGS, '-o', file]);
  let sizeOk = true;
  try {
    run(process.execPath, ['scripts/vsixSize.mjs', file]);
  } catch {
    sizeOk = false;
  }
  const entries = zipEntries(file);
  const problems = checkNative(entries, target);
  if (!sizeOk) problems.unshift(`over ${LIMIT / 2 ** 20} MB`);
  const native = entries.filter((e) => e.name.startsWith('extension/dist/native/'));
  rows.push({
    target, file, bytes: statSync(file).size, files: entries.length,
    native: native.map((e) => `${e.name.split('/').pop()} ${(e.compressed / 2 ** 20).toFixed(1)}`).join(', ') || '—',
    problems,
  });
}

// Leave dist/ as a plain build for this machine, not the last package's platform.
run(process.execPath, ['esbuild.mjs']);

const mb = (n) => (n / 2 ** 20).toFixed(1);
console.log('\n| package | .vsix | MB | files | native (MB zipped) | check |');
console.log('|---|---|---:|---:|---|---|');
for (const r of rows) {
  console.log(`| ${r.target} | ${r.file} | ${mb(r.bytes)} | ${r.files} | ${r.native} | ${r.problems.length ? r.problems.join('; ') : `ok (≤ ${LIMIT / 2 ** 20} MB, ${r.target === 'universal' ? 'no native binaries' : 'only its own binaries'})`} |`);
}
if (rows.some((r) => r.problems.length)) process.exit(1);
