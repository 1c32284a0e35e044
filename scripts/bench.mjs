// `npm run bench` (all parts) or `node scripts/bench.mjs <part>...`: throughput, latency, native,
// size, memory, cpu, window, codec. Each part saves its figures in bench/results/<part>.json; after any run
// bench/RESULTS.md and bench/chart.svg are written again from every saved part (scripts/bench/report.mjs).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './lib/serve.mjs';
import { writeReport } from './bench/report.mjs';

const PARTS = {
  size: () => import('./bench/size.mjs'),
  native: () => import('./bench/native.mjs'),
  throughput: () => import('./bench/throughput.mjs'),
  latency: () => import('./bench/latency.mjs'),
  memory: () => import('./bench/memory.mjs'),
  cpu: () => import('./bench/cpu.mjs'),
  window: () => import('./bench/window.mjs'),
  // Written on another branch (scripts/bench-codec.mjs): run when present.
  codec: () => import('./bench/codec.mjs'),
};

const asked = process.argv.slice(2);
const parts = asked.length ? asked : Object.keys(PARTS);
for (const part of parts) {
  if (!PARTS[part]) throw new Error(`unknown part ${part}; parts: ${Object.keys(PARTS).join(', ')}`);
}
const RESULTS = path.join(ROOT, 'bench/results');
mkdirSync(RESULTS, { recursive: true });

if (parts.some((p) => ['size', 'throughput', 'latency', 'memory', 'cpu', 'window'].includes(p)) || !existsSync(path.join(ROOT, 'pkg/wasmqtt_bg.wasm'))) {
  // The size part profiles a copy that keeps function names (scripts/bench-size.mjs).
  const names = parts.includes('size') ? { WASMQTT_WASM_NAMES: path.join(ROOT, 'bench/.build/names') } : {};
  execFileSync('bash', ['scripts/build-wasm.sh'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...names } });
}

for (const part of parts) {
  const started = Date.now();
  // Other work on the machine moves every figure; the report shows how busy it was.
  const loadAtStart = os.loadavg()[0];
  console.log(`\n== bench: ${part}`);
  const { run } = await PARTS[part]();
  const result = await run();
  if (result === null) continue; // nothing to measure
  result.measuredAt = new Date().toISOString();
  result.loadAtStart = loadAtStart;
  result.machine = `${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores`;
  result.seconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(path.join(RESULTS, `${part}.json`), JSON.stringify(result, null, 2) + '\n');
  console.log(`== ${part} done in ${result.seconds} s`);
}
writeReport();
console.log('\nwrote bench/RESULTS.md and bench/chart.svg');
