// Runs test/vscode in a real VS Code via @vscode/test-electron. VS Code is downloaded on first use
// (cached in .vscode-test/), or taken from VSCODE_TEST_EXECUTABLE. Where it can be neither found
// nor downloaded (offline machines, CI without internet) this SKIPS with the reason and exits 0:
// the code-server E2E suite (npm run test:e2e) covers the same ground there.
import { build } from 'esbuild';
import { setTimeout } from 'node:timers';
import { cpSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const out = join(root, 'out', 'test', 'vscode');
await build({
  entryPoints: { 'extension.test': join(root, 'test/vscode/extension.test.ts'), index: join(root, 'test/vscode/index.ts') },
  outdir: out, outExtension: { '.js': '.cjs' }, bundle: true, platform: 'node', format: 'cjs', target: 'es2022',
  external: ['vscode', 'mocha'], logLevel: 'warning',
});

const { downloadAndUnzipVSCode, runTests } = await import('@vscode/test-electron');
let executable = process.env.VSCODE_TEST_EXECUTABLE;
if (executable && !existsSync(executable)) {
  console.log(`SKIP test:vscode: VSCODE_TEST_EXECUTABLE=${executable} does not exist.`);
  process.exit(0);
}
if (!executable) {
  try {
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 60 s')), 60_000).unref());
    executable = await Promise.race([downloadAndUnzipVSCode({ version: process.env.VSCODE_TEST_VERSION ?? 'stable', timeout: 30_000 }), timeout]);
  } catch (e) {
    console.log(`SKIP test:vscode: VS Code could not be downloaded (${e instanceof Error ? e.message.split('\n')[0] : String(e)}).`);
    console.log('  Set VSCODE_TEST_EXECUTABLE to a local VS Code binary to run these tests; npm run test:e2e covers the extension in code-server.');
    process.exit(0);
  }
}
const workspace = join(mkdtempSync(join(tmpdir(), 'seqlens-vscode-')), 'sample-workspace');
cpSync(join(root, 'sample-workspace'), workspace, { recursive: true });
try {
  await runTests({
    vscodeExecutablePath: executable,
    extensionDevelopmentPath: root,
    extensionTestsPath: join(out, 'index.cjs'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome'],
  });
} catch (e) {
  console.error(`test:vscode failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
