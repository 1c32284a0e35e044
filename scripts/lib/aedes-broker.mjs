// aedes, run as its own process by startAedes (scripts/lib/brokers.mjs): MQTT over TCP and over
// WebSocket on loopback, the WebSocket front as aedes documents it (ws's WebSocketServer, each
// connection handed to aedes as a stream by createWebSocketStream; the stream carries bytes, so
// WebSocket message boundaries mean nothing to aedes). Settings from the environment:
// AEDES_TCP_PORT, AEDES_WS_PORT, AEDES_REFUSE (filters whose subscription is refused, comma
// separated). One log line per event on stdout.
import http from 'node:http';
import net from 'node:net';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';

const refused = new Set((process.env.AEDES_REFUSE || '').split(',').filter(Boolean));
const log = (...parts) => console.log(new Date().toISOString(), ...parts);

const broker = await Aedes.createBroker();
// A refused filter gets 0x80 in the SUBACK (aedes's documented way: the subscription set to null).
broker.authorizeSubscribe = (client, sub, callback) => callback(null, refused.has(sub.topic) ? null : sub);

broker.on('client', (c) => log('connected', c.id));
broker.on('clientDisconnect', (c) => log('disconnected', c.id));
broker.on('clientError', (c, e) => log('client error', c.id, e.message));
broker.on('connectionError', (c, e) => log('connection error', c?.id, e.message));
broker.on('keepaliveTimeout', (c) => log('keepalive timeout', c.id));
broker.on('subscribe', (subs, c) => log('subscribe', c?.id, JSON.stringify(subs)));

const tcp = net.createServer(broker.handle);
const web = http.createServer();
const wss = new WebSocketServer({
  server: web,
  // MQTT-6.0.0-4: the server selects "mqtt".
  handleProtocols: (offered) => (offered.has('mqtt') ? 'mqtt' : false),
});
wss.on('connection', (socket, req) => broker.handle(createWebSocketStream(socket), req));

await new Promise((resolve) => tcp.listen(Number(process.env.AEDES_TCP_PORT), '127.0.0.1', resolve));
await new Promise((resolve) => web.listen(Number(process.env.AEDES_WS_PORT), '127.0.0.1', resolve));
log('aedes listening on', tcp.address().port, 'and', web.address().port);

process.once('SIGTERM', () => {
  log('stopping');
  for (const client of wss.clients) client.terminate();
  broker.close(() => process.exit(0));
  tcp.close();
  web.close();
});
