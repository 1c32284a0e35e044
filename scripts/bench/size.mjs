// Bundle size part: runs scripts/bench-size.mjs (which also writes bench/size-results.md).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../lib/serve.mjs';

export async function run() {
  execFileSync('node', ['scripts/bench-size.mjs', '--no-build'], { cwd: ROOT, stdio: 'inherit' });
  return JSON.parse(readFileSync(path.join(ROOT, 'bench/results/size-table.json'), 'utf8'));
}
