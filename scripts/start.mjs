// `npm start`: builds the wasm package, starts the embedded default broker, the sensor simulator
// and the dashboard (scripts/lib/demo.mjs). Ctrl-C stops everything it started.
import { execFileSync } from 'node:child_process';
import { ROOT } from './lib/serve.mjs';
import { startDemo } from './lib/demo.mjs';

execFileSync('bash', ['scripts/build-wasm.sh'], { cwd: ROOT, stdio: 'inherit' });
const port = Number(process.env.PORT) || 0;
const demo = await startDemo({ port });
console.log(`wasmqtt dashboard: ${demo.url}`);
console.log(`broker:            ${demo.broker.wsUrl} (WebSocket), ${demo.broker.tcpUrl} (TCP);`);
console.log(`                   the page connects through a fault proxy at ${demo.proxy.wsUrl}`);
console.log(`sensors:           ${demo.sensors.devices.map((d) => `${d.room}/${d.device}`).join(', ')}`);
console.log('Ctrl-C stops the demo, the simulator and the broker.');

async function shutdown() {
  await demo.close();
  process.exit(0);
}
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
