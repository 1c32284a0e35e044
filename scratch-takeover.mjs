import { startBroker } from '/work/wt-tabs/scripts/lib/broker.mjs';
import WebSocket from '/work/wt-tabs/node_modules/ws/index.js';
import mqttPacket from '/work/wt-tabs/node_modules/mqtt-packet/mqtt.js';
const broker = await startBroker();
function client(label, version) {
  return new Promise((resolve) => {
    const ws = new WebSocket(broker.wsUrl, 'mqtt');
    const parser = mqttPacket.parser({ protocolVersion: version });
    parser.on('packet', (p) => console.log(label, 'packet', p.cmd, p.reasonCode ?? p.returnCode ?? ''));
    ws.on('message', (d) => parser.parse(d));
    ws.on('close', (code, reason) => console.log(label, 'close', code, String(reason)));
    ws.on('open', () => { ws.send(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId: 'same-' + version, clean: false, keepalive: 30, properties: version === 5 ? { sessionExpiryInterval: 60 } : undefined }, { protocolVersion: version })); resolve(ws); });
  });
}
for (const v of [5, 4]) {
  const a = await client('A' + v, v);
  await new Promise((r) => setTimeout(r, 300));
  const b = await client('B' + v, v);
  await new Promise((r) => setTimeout(r, 500));
  b.close();
}
await new Promise((r) => setTimeout(r, 500));
await broker.stop?.(); await broker.close?.(); process.exit(0);
