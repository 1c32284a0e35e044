// `npm test`: lints, host tests, in-browser tests and page-level tests, each against real parts,
// ending with one line `N passed, N failed[, N skipped]` totalled over all suites.
// Lint checks count as one test each. Exits non-zero if anything failed.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { startBroker } from './lib/broker.mjs';
import { ROOT } from './lib/serve.mjs';

const totals = { passed: 0, failed: 0, skipped: 0 };
const suites = [];

/** Runs a command, echoing its output, and resolves with { code, output }. */
function run(command, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { output += d; process.stderr.write(d); });
    child.on('close', (code) => resolve({ code, output }));
  });
}

function count(name, counts, code) {
  // A runner that failed without reporting a failed test (a compile error, a crash) still fails.
  if (code !== 0 && counts.failed === 0) counts.failed = 1;
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  suites.push({ name, ...counts });
}

/** Sums cargo's `test result: ok. X passed; Y failed; Z ignored` lines. */
function cargoCounts(output) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const m of output.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/g)) {
    counts.passed += Number(m[1]);
    counts.failed += Number(m[2]);
    counts.skipped += Number(m[3]);
  }
  return counts;
}

/** Reads node's TAP summary (`# pass N`, `# fail N`, `# skipped N`). */
function tapCounts(output) {
  const pick = (key) => Number(output.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] || 0);
  return { passed: pick('pass'), failed: pick('fail'), skipped: pick('skipped') + pick('todo') };
}

async function check(name, command, args, env) {
  const { code } = await run(command, args, env);
  count(name, { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 }, code);
}

const wasm = (cmd) => ['-c', `. scripts/wasm-env.sh && ${cmd}`];

await check('cargo fmt --check', 'cargo', ['fmt', '--check']);
await check('cargo clippy', 'cargo', ['clippy', '--all-targets', '--quiet', '--', '-D', 'warnings']);

{
  const { code, output } = await run('cargo', ['test', '--quiet']);
  count('host tests (cargo test)', cargoCounts(output), code);
}

// In the browser: the crate's unit tests (src/web's own among them) and tests/browser_*.rs;
// the rest of tests/ is host-only.
const browserTests = ['--lib', ...readdirSync(`${ROOT}/tests`).filter((f) => /^browser_.*\.rs$/.test(f))
  .map((f) => `--test ${f.slice(0, -3)}`)].join(' ');
const broker = await startBroker();
try {
  const { code, output } = await run('bash', wasm(`wasm-pack --log-level error test --headless --chrome --chromedriver /usr/bin/chromedriver -- ${browserTests}`), {
    WASMQTT_TEST_WS_URL: broker.wsUrl,
    CHROMEDRIVER: '/usr/bin/chromedriver',
  });
  count('in-browser tests (wasm-pack test)', cargoCounts(output), code);
} finally {
  await broker.dispose();
}

{
  const build = await run('bash', ['scripts/build-wasm.sh']);
  if (build.code !== 0) {
    count('wasm package build', { passed: 0, failed: 1, skipped: 0 }, build.code);
  } else {
    await check('TypeScript definitions (tsc --noEmit)', process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tests/types']);
    await check('size budget (minimal Vite app, gzip)', process.execPath, ['scripts/check-size.mjs']);
    // A file's tests share the timeout; the fault suite's file takes a few minutes.
    const { code, output } = await run(process.execPath, ['--test', '--test-reporter=tap', '--test-concurrency=1', '--test-timeout=300000', 'tests/page/']);
    count('page-level tests (playwright-core)', tapCounts(output), code);
  }
}

console.log('\nSuites:');
for (const s of suites) console.log(`  ${s.name}: ${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''}`);
console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(totals.failed === 0 ? 0 : 1);
