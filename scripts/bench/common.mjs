// What every benchmark part shares: the broker settings that drop nothing, the page set-up,
// and CPU profiles through the DevTools protocol.
import { startBroker } from '../lib/broker.mjs';
import { serve } from '../lib/serve.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { startBridge } from './ws-bridge.mjs';

/**
 * How the browser pages reach mosquitto: 'bridge' (default: a Node WebSocket front on its TCP
 * listener, see ws-bridge.mjs) or 'direct' (mosquitto's own WebSocket listener).
 */
export const TRANSPORT = process.env.BENCH_TRANSPORT === 'direct' ? 'direct' : 'bridge';

/**
 * mosquitto with no queue or in-flight limits, so that what is measured is the clients:
 * max_queued_messages 0 and max_queued_bytes 0 (no queue limit), max_inflight_messages 0 and
 * max_inflight_bytes 0 (no in-flight limit; MQTT 5 clients get Receive Maximum 65535),
 * message_size_limit 0.
 */
export const BROKER_SETTINGS = {
  maxQueuedMessages: 0,
  extraConfig: ['max_queued_bytes 0', 'max_inflight_messages 0', 'max_inflight_bytes 0', 'message_size_limit 0'].join('\n'),
};

const ALL_CLIENTS = ['wasmqtt-memory', 'wasmqtt-indexeddb', 'mqttjs', 'paho'];
/** BENCH_CLIENTS=a,b limits a run to some clients (for trying things out). */
export const CLIENTS = process.env.BENCH_CLIENTS ? ALL_CLIENTS.filter((c) => process.env.BENCH_CLIENTS.split(',').includes(c)) : ALL_CLIENTS;
/** BENCH_SCALE multiplies every message count (e.g. 0.1 for a quick try; the report says so). */
export const SCALE = Number(process.env.BENCH_SCALE || 1);
export const LABELS = {
  'wasmqtt-memory': 'wasmqtt (memory)',
  'wasmqtt-indexeddb': 'wasmqtt (IndexedDB)',
  mqttjs: 'MQTT.js',
  paho: 'Paho',
  native: 'native (Rust core, TCP)',
  loopback: 'the flows alone (no client, no socket)',
};

export async function startBench() {
  const broker = await startBroker(BROKER_SETTINGS);
  const server = await serve();
  const browser = await launchBrowser();
  const bridge = await startBridge(broker.tcpPort);
  let n = 0;
  return {
    broker,
    /** The WebSocket URL the pages use (see TRANSPORT); `directUrl` is mosquitto's own listener. */
    url: TRANSPORT === 'direct' ? broker.wsUrl : bridge.url,
    directUrl: broker.wsUrl,
    /** A fresh page in its own context (own IndexedDB) with the bench flows loaded. */
    async page() {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error('page error:', error.message));
      await page.goto(`${server.url}/bench/page.html`);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      page.close = ((closePage) => async () => { await closePage.call(page); await context.close(); })(page.close);
      return page;
    },
    id: (what) => `bench-${what}-${process.pid}-${++n}`,
    async close() {
      await browser.close().catch(() => {});
      await bridge.close();
      await server.close();
      await broker.dispose();
    },
  };
}

/**
 * Starts the DevTools CPU profiler on `page`; the returned stop() gives `top`, the functions with
 * the most self time, `idle`, the share of the time the page waited for work, and `bySource`, self
 * time per script file (V8's own buckets such as `(program)` apart, built-ins without a file as
 * `(built-ins)`).
 */
export async function profile(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  return async (top = 12) => {
    const { profile: p } = await cdp.send('Profiler.stop');
    const dt = new Map();
    for (let i = 0; i < p.samples.length; i++) {
      dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
    }
    const byFunction = new Map();
    const bySource = new Map();
    let total = 0;
    for (const node of p.nodes) {
      const us = dt.get(node.id) ?? 0;
      total += us;
      const { functionName, url } = node.callFrame;
      const file = url ? url.split('/').pop() : '';
      const key = `${functionName || '(anonymous)'}${file ? ` (${file}:${node.callFrame.lineNumber + 1})` : ''}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + us);
      const source = file || (functionName.startsWith('(') ? functionName : '(built-ins)');
      bySource.set(source, (bySource.get(source) ?? 0) + us);
    }
    const share = (us) => (total ? us / total : 0);
    const ranked = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: share(us) }));
    return {
      top: ranked(byFunction, top),
      bySource: ranked(bySource, Infinity),
      idle: share(byFunction.get('(idle)') ?? 0),
    };
  };
}

/** The throughput cases: QoS and payload size, and how many messages each run sends. */
export const CASES = scaled([
  { qos: 0, size: 100, count: 20_000, nativeCount: 200_000 },
  { qos: 1, size: 100, count: 5_000, nativeCount: 50_000 },
  { qos: 2, size: 100, count: 5_000, nativeCount: 50_000 },
  { qos: 0, size: 4096, count: 2_000, nativeCount: 50_000 },
  { qos: 1, size: 4096, count: 2_000, nativeCount: 20_000 },
  { qos: 2, size: 4096, count: 2_000, nativeCount: 20_000 },
]);

function scaled(cases) {
  return cases.map((c) => ({ ...c, count: Math.ceil(c.count * SCALE), nativeCount: Math.ceil(c.nativeCount * SCALE) }));
}
/** Publishes not yet completed that a publisher allows, browser and native alike. */
export const WINDOW = 1000;

/**
 * Paho keeps every unacknowledged QoS 1 / 2 message in localStorage, its payload as hex: 1000
 * of 4 KiB overflow the origin's quota (QuotaExceededError at the 1000th), so its 4 KiB runs
 * keep at most PAHO_LARGE_WINDOW on the way.
 */
export const PAHO_LARGE_WINDOW = 500;

/** How many publishes `client` may have on the way in a throughput run. */
export function windowFor(client, size) {
  return client === 'paho' && size > 1000 ? PAHO_LARGE_WINDOW : WINDOW;
}
