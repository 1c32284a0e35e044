// One small adapter per client library, so every flow runs the same code for each:
// open(kind, url, clientId) -> { publish(topic, payload, qos) -> Promise, subscribe(topic, qos,
// onMessage(payload)) -> Promise, end() -> Promise }. Payloads are strings for every client
// (what a dashboard mostly sends); a handler gets the library's own payload object.
import { connect, load } from '/pkg/index.js';
import mqtt from '/node_modules/mqtt/dist/mqtt.esm.js';

export const KINDS = ['wasmqtt-memory', 'wasmqtt-indexeddb', 'mqttjs', 'paho'];

/** The MQTT protocol each client runs: MQTT 5 where the library has it, Paho 3.1.1 only. */
export const PROTOCOL = { 'wasmqtt-memory': 5, 'wasmqtt-indexeddb': 5, mqttjs: 5, paho: 4 };

export async function open(kind, url, clientId) {
  switch (kind) {
    case 'wasmqtt-memory':
    case 'wasmqtt-indexeddb':
      return openWasmqtt(url, clientId, kind === 'wasmqtt-memory' ? 'memory' : 'indexeddb');
    case 'mqttjs':
      return openMqttJs(url, clientId);
    case 'paho':
      return openPaho(url, clientId);
    case 'loopback':
      return openLoopback();
    case 'websocket':
      return openBareWebSocket(url, clientId);
    default:
      throw new Error(`unknown client ${kind}`);
  }
}

/** wasmqtt's WebAssembly memory, in bytes (the module's exported memory). */
export async function wasmMemoryBytes() {
  const exports = await load();
  return exports.memory.buffer.byteLength;
}

async function openWasmqtt(url, clientId, persistence) {
  const client = await connect(url, { clientId, persistence, reconnect: false, protocolVersion: 5 });
  return {
    publish: (topic, payload, qos) => client.publish(topic, payload, { qos }),
    subscribe: (topic, qos, onMessage) => client.subscribe({ topic, qos }, (m) => onMessage(m.payload)),
    end: () => client.end(),
  };
}

function openMqttJs(url, clientId) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { clientId, protocolVersion: 5, reconnectPeriod: 0, clean: true });
    const handlers = new Map();
    client.on('message', (topic, payload) => handlers.get(topic)?.(payload));
    client.once('error', reject);
    client.once('connect', () => resolve({
      publish: (topic, payload, qos) => new Promise((ok, fail) => {
        client.publish(topic, payload, { qos }, (error) => (error ? fail(error) : ok()));
      }),
      subscribe: (topic, qos, onMessage) => new Promise((ok, fail) => {
        handlers.set(topic, onMessage);
        client.subscribe(topic, { qos }, (error) => (error ? fail(error) : ok()));
      }),
      end: () => new Promise((ok) => client.end(false, {}, () => ok())),
    }));
  });
}

/**
 * No library and no socket: a publish hands the payload to the handler at once. What the
 * benchmark flows cost by themselves (timer, promises, counting), measured by the CPU part.
 */
function openLoopback() {
  const handlers = new Map();
  return {
    publish: async (topic, payload) => { handlers.get(topic)?.(payload); },
    subscribe: async (topic, qos, onMessage) => { handlers.set(topic, onMessage); },
    end: async () => {},
  };
}

/**
 * A bare WebSocket that speaks just enough MQTT 5 by hand: CONNECT, one SUBSCRIBE, PUBLISH built
 * per call at QoS 0, 1 or 2 with the acknowledgements each needs (PUBACK; PUBREC, PUBREL,
 * PUBCOMP), each task's packets sent as one WebSocket message, incoming packets parsed in place.
 * No state beyond the packet ids in flight, no checks, no store, no de-duplication: what it costs
 * is the browser's WebSocket work for the packets of each QoS, the floor every client pays.
 */
function openBareWebSocket(url, clientId) {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const cat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  };
  const length = (n) => {
    const bytes = [];
    do { bytes.push((n % 128) | (n >= 128 ? 0x80 : 0)); n = Math.floor(n / 128); } while (n > 0);
    return Uint8Array.from(bytes);
  };
  const text = (s) => { const b = encoder.encode(s); return cat(Uint8Array.of(b.length >> 8, b.length & 0xff), b); };
  const packet = (type, body) => cat(Uint8Array.of(type), length(body.length), body);
  /** An acknowledgement packet (PUBACK 0x40, PUBREC 0x50, PUBREL 0x62, PUBCOMP 0x70) of `id`. */
  const ack = (type, id) => Uint8Array.of(type, 2, id >> 8, id & 0xff);
  /** The two-byte integer at `at` (a length or a packet id). */
  const u16At = (bytes, at) => (bytes[at] << 8) | bytes[at + 1];
  const handlers = new Map();
  /** Outgoing QoS 1/2 publishes by packet id: their promise's resolve. */
  const inFlight = new Map();
  let lastId = 0;
  const queued = [];
  let waiting = null;
  const ws = new WebSocket(url, 'mqtt');
  ws.binaryType = 'arraybuffer';
  /** The packets of one task leave as one WebSocket message, as wasmqtt's do. */
  const send = (bytes) => {
    if (queued.length === 0) queueMicrotask(() => ws.send(cat(...queued.splice(0))));
    queued.push(bytes);
  };
  // The bridge forwards TCP as it comes: a packet may span WebSocket messages.
  let rest = new Uint8Array(0);
  ws.onmessage = ({ data }) => {
    const bytes = rest.length ? cat(rest, new Uint8Array(data)) : new Uint8Array(data);
    let i = 0;
    while (i < bytes.length) {
      const type = bytes[i] >> 4;
      const qos = (bytes[i] >> 1) & 3;
      let len = 0;
      let scale = 1;
      let j = i + 1;
      for (;;) { const b = bytes[j++]; len += (b & 0x7f) * scale; scale *= 128; if (b < 0x80 || j > bytes.length) break; }
      const end = j + len;
      if (end > bytes.length) break;
      if (type === 3) {
        const topicLength = u16At(bytes, j);
        const topic = decoder.decode(bytes.subarray(j + 2, j + 2 + topicLength));
        const propertiesAt = j + 2 + topicLength + (qos ? 2 : 0);
        if (qos === 1) send(ack(0x40, u16At(bytes, j + 2 + topicLength)));
        if (qos === 2) send(ack(0x50, u16At(bytes, j + 2 + topicLength)));
        handlers.get(topic)?.(bytes.subarray(propertiesAt + 1 + bytes[propertiesAt], end));
      } else if (type === 4 || type === 7) { // PUBACK, PUBCOMP: the publish is done
        const id = u16At(bytes, j);
        inFlight.get(id)?.();
        inFlight.delete(id);
      } else if (type === 5) { // PUBREC
        send(ack(0x62, u16At(bytes, j)));
      } else if (type === 6) { // PUBREL
        send(ack(0x70, u16At(bytes, j)));
      } else {
        waiting?.(type);
      }
      i = end;
    }
    rest = bytes.slice(i);
  };
  const next = () => new Promise((resolve) => { waiting = (type) => { waiting = null; resolve(type); }; });
  return new Promise((resolve, reject) => {
    ws.onerror = () => reject(new Error('websocket: could not connect'));
    ws.onopen = async () => {
      // CONNECT, MQTT 5, clean start, keepalive 0 (the run is short), no properties.
      ws.send(packet(0x10, cat(text('MQTT'), Uint8Array.of(5, 0x02, 0, 0, 0), text(clientId))));
      if ((await next()) !== 2) { reject(new Error('websocket: no CONNACK')); return; }
      resolve({
        publish: (topic, payload, qos = 0) => {
          if (!qos) {
            send(packet(0x30, cat(text(topic), Uint8Array.of(0), encoder.encode(payload))));
            return Promise.resolve();
          }
          lastId = (lastId % 0xffff) + 1;
          const id = lastId;
          send(packet(0x30 | (qos << 1), cat(text(topic), Uint8Array.of(id >> 8, id & 0xff, 0), encoder.encode(payload))));
          return new Promise((done) => inFlight.set(id, done));
        },
        subscribe: async (topic, qos, onMessage) => {
          handlers.set(topic, onMessage);
          ws.send(packet(0x82, cat(Uint8Array.of(0, 1, 0), text(topic), Uint8Array.of(qos))));
          await next();
        },
        end: async () => { ws.send(Uint8Array.of(0xe0, 0)); ws.close(); },
      });
    };
  });
}

function openPaho(url, clientId) {
  const client = new window.Paho.Client(`${url}/`, clientId);
  // Paho reports completion through one callback per client, in send order for each QoS flow.
  const delivered = [];
  client.onMessageDelivered = () => delivered.shift()?.();
  const handlers = new Map();
  client.onMessageArrived = (message) => handlers.get(message.destinationName)?.(message.payloadBytes);
  return new Promise((resolve, reject) => {
    client.connect({
      mqttVersion: 4,
      cleanSession: true,
      timeout: 10,
      onFailure: (e) => reject(new Error(`paho: ${e.errorMessage}`)),
      onSuccess: () => resolve({
        publish: (topic, payload, qos) => new Promise((ok) => {
          delivered.push(ok);
          client.send(topic, payload, qos, false);
        }),
        subscribe: (topic, qos, onMessage) => new Promise((ok, fail) => {
          handlers.set(topic, onMessage);
          client.subscribe(topic, { qos, onSuccess: () => ok(), onFailure: (e) => fail(new Error(`paho: ${e.errorCode}`)) });
        }),
        end: async () => { try { client.disconnect(); } catch { /* already gone */ } },
      }),
    });
  });
}
