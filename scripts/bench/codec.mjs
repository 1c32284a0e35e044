// The codec part (encode/decode speed) is written on another branch as scripts/bench-codec.mjs;
// once it is there, this runs it and the report links its output, bench/codec-results.md.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../lib/serve.mjs';

export async function run() {
  const script = path.join(ROOT, 'scripts/bench-codec.mjs');
  if (!existsSync(script)) {
    console.log('scripts/bench-codec.mjs is not here yet: skipped');
    return null;
  }
  execFileSync('node', [script], { cwd: ROOT, stdio: 'inherit' });
  return { ran: 'scripts/bench-codec.mjs', output: 'bench/codec-results.md' };
}
