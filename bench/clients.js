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
