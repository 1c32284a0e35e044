// The limit: the same flows with the project's Rust session and codec driven over plain TCP by
// examples/native_bench.rs (release build), through the same broker settings.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
      const before = { broker: cpuSeconds(broker.child.pid, 'self'), client: cpuSeconds(process.pid, 'children'), at: Date.now() };
      const out = execFileSync(binary, [`127.0.0.1:${broker.tcpPort}`, String(qos), String(size), String(nativeCount), String(WINDOW), '5'],
        { encoding: 'utf8', timeout: 120_000 });
      const wall = (Date.now() - before.at) / 1000;
      // Which side is busy: a broker near one full core is the limit (mosquitto is single-threaded).
      const cpu = {
        broker: (cpuSeconds(broker.child.pid, 'self') - before.broker) / wall,
        client: (cpuSeconds(process.pid, 'children') - before.client) / wall,
      };
      const result = JSON.parse(out.trim().split('\n').pop());
      console.log(`native QoS ${qos} ${size} B: ${Math.round(result.rate)} msg/s; CPU: mosquitto ${(100 * cpu.broker).toFixed(0)}%, native client ${(100 * cpu.client).toFixed(0)}% of a core`);
      runs.push({ client: 'native', ...result, cpu });
    }
  } finally {
    runs.drops = broker.droppedMessageReports();
    await broker.dispose();
  }
  return { runs, brokerDropReports: runs.drops };
}

/**
 * CPU seconds (user + system) from /proc/<pid>/stat: the process's own, or those of its children
 * that have been waited for. Clock ticks are 100 a second on Linux.
 */
function cpuSeconds(pid, which) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // After "pid (comm) ": state is field 3, so utime/stime/cutime/cstime (14-17) sit at 11-14.
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
  return (which === 'self' ? utime + stime : cutime + cstime) / 100;
}
