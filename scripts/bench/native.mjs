// The limit: the same flows with the project's Rust session and codec driven over plain TCP by
// examples/native_bench.rs (release build), through the same broker settings.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../lib/serve.mjs';
import { startBroker } from '../lib/broker.mjs';
import { BROKER_SETTINGS, CASES, WINDOW } from './common.mjs';

export async function run() {
  // The host toolchain, whatever wasm-env.sh may have set in this shell.
  const env = { ...process.env };
  for (const name of ['RUSTC', 'CARGO_TARGET_DIR', 'CARGO_BUILD_TARGET']) delete env[name];
  env.PATH = `${process.env.HOME}/.cargo/bin:${env.PATH}`;
  execFileSync('cargo', ['build', '--release', '--quiet', '--example', 'native_bench'], { cwd: ROOT, env, stdio: 'inherit' });
  const binary = path.join(ROOT, 'target/release/examples/native_bench');
  const broker = await startBroker(BROKER_SETTINGS);
  const runs = [];
  try {
    for (const { qos, size, nativeCount } of CASES) {
      const out = execFileSync(binary, [`127.0.0.1:${broker.tcpPort}`, String(qos), String(size), String(nativeCount), String(WINDOW), '5'],
        { encoding: 'utf8', timeout: 120_000 });
      const result = JSON.parse(out.trim().split('\n').pop());
      console.log(`native QoS ${qos} ${size} B: ${Math.round(result.rate)} msg/s`);
      runs.push({ client: 'native', ...result });
    }
  } finally {
    runs.drops = broker.droppedMessageReports();
    await broker.dispose();
  }
  return { runs, brokerDropReports: runs.drops };
}
