// For `npx vscode-test` (@vscode/test-cli) on machines with VS Code: the same suite as
// `npm run test:vscode` (test/vscode/run.mjs, which builds it into out/test/vscode and skips
// cleanly where VS Code cannot be downloaded). Build first: node test/vscode/run.mjs, or npm run build.
import { defineConfig } from '@vscode/test-cli';

export default defineConfig({
  label: 'integration',
  files: 'out/test/vscode/extension.test.cjs',
  workspaceFolder: './sample-workspace',
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  mocha: { ui: 'bdd', timeout: 60_000 },
});
