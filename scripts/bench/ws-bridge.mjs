// A WebSocket front for mosquitto's TCP listener (ws from node_modules, already there for
// MQTT.js): each WebSocket connection becomes one TCP connection, binary frames in, each TCP
// read one binary frame out. mosquitto 2.0.11's own WebSocket listener delivers large messages
// at a few per second (eclipse-mosquitto/mosquitto#2252, #1390), which would make every browser
// figure a measure of that listener; through this bridge the broker's TCP path is the common part.
import net from 'node:net';
import { WebSocketServer } from 'ws';

export function startBridge(tcpPort) {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : [...protocols][0] ?? false),
  });
  server.on('connection', (ws) => {
    const tcp = net.connect({ host: '127.0.0.1', port: tcpPort });
    tcp.setNoDelay(true);
    const early = [];
    tcp.once('connect', () => { for (const data of early.splice(0)) tcp.write(data); });
    ws.on('message', (data) => (tcp.connecting ? early.push(data) : tcp.write(data)));
    tcp.on('data', (data) => ws.send(data, { binary: true }));
    ws.on('close', () => tcp.end());
    ws.on('error', () => tcp.destroy());
    tcp.on('close', () => ws.close());
    tcp.on('error', () => ws.terminate());
  });
  return new Promise((resolve) => server.on('listening', () => resolve({
    url: `ws://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { for (const c of server.clients) c.terminate(); server.close(() => r()); }),
  })));
}
