// Prints a packaged .vsix's size and fails when it is over the 40 MB a per-platform package may take.
import { statSync } from 'node:fs';

const LIMIT = 40 * 2 ** 20;
const file = process.argv[2] ?? 'sequence-lens.vsix';
const size = statSync(file).size;
console.log(`${file}: ${(size / 2 ** 20).toFixed(1)} MB (${size.toLocaleString('en-US')} bytes)`);
if (size > LIMIT) {
  console.error(`${file} is over ${LIMIT / 2 ** 20} MB`);
  process.exit(1);
}
