// `npm start`: builds the wasm package, starts the embedded default broker and serves the demo.
// Ctrl-C stops everything it started.
import { execFileSync } from 'node:child_process';
import { startBroker } from './lib/broker.mjs';
import { serve, ROOT } from './lib/serve.mjs';

execFileSync('bash', ['scripts/build-wasm.sh'], { cwd: ROOT, stdio: 'inherit' });
const broker = await startBroker();
const server = await serve({ config: { brokerUrl: broker.wsUrl } });
console.log(`wasmqtt demo:  ${server.url}/www/`);
console.log(`broker:        ${broker.wsUrl} (WebSocket), ${broker.tcpUrl} (TCP)`);
console.log('Ctrl-C stops the demo and the broker.');

async function shutdown() {
  await server.close();
  await broker.dispose();
  process.exit(0);
}
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
