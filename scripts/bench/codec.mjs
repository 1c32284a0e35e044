// The codec part (encode/decode speed against mqtt-packet): scripts/bench-codec.mjs, whose table
// is bench/CODEC.md; the report links it.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../lib/serve.mjs';

export async function run() {
  execFileSync('node', [path.join(ROOT, 'scripts/bench-codec.mjs')], { cwd: ROOT, stdio: 'inherit' });
  return { ran: 'scripts/bench-codec.mjs', output: 'bench/CODEC.md' };
}
