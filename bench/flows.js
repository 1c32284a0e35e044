// The benchmark flows a page runs, put on window by bench/page.html. Times are
// performance.timeOrigin + performance.now(): one clock for every page of the browser.
import { open, wasmMemoryBytes } from './clients.js';
import { connect } from '/pkg/index.js';

const clock = () => performance.timeOrigin + performance.now();
let subscriber = null;

/** A payload of `size` ASCII bytes. */
function filler(size) {
  return 'x'.repeat(size);
}

/**
 * Connects `kind` and subscribes to `topic`; resolves once subscribed. Then counts messages
 * until `count` arrived (subscriberResult() waits for that). With `latency`, every payload
 * starts with its send time, and the delay to the handler is recorded.
 */
export async function startSubscriber({ kind, url, clientId, topic, qos, count, latency = false }) {
  const client = await open(kind, url, clientId);
  const state = { client, received: 0, first: 0, last: 0, delays: latency ? new Float64Array(count) : null };
  let finish;
  state.done = new Promise((resolve) => { finish = resolve; });
  const decoder = new TextDecoder();
  await client.subscribe(topic, qos, (payload) => {
    const now = clock();
    if (state.received === 0) state.first = now;
    if (state.delays && state.received < count) {
      const head = decoder.decode(payload.subarray(0, 24));
      state.delays[state.received] = now - parseFloat(head);
    }
    state.received += 1;
    state.last = now;
    if (state.received === count) finish();
  });
  subscriber = state;
}

/** Waits (at most `timeoutMs`) for the subscriber's count; ends its client; reports. */
export async function subscriberResult(timeoutMs) {
  const state = subscriber;
  subscriber = null;
  await Promise.race([state.done, new Promise((r) => setTimeout(r, timeoutMs))]);
  const result = { received: state.received, first: state.first, last: state.last };
  if (state.delays) result.delays = percentiles(state.delays.subarray(0, Math.min(state.received, state.delays.length)));
  await state.client.end().catch(() => {});
  return result;
}

function percentiles(delays) {
  const sorted = Float64Array.from(delays).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1], n: sorted.length };
}

/**
 * Publishes `count` messages as fast as the client takes them, with at most `window`
 * publishes not yet completed (QoS 0: written; QoS 1: PUBACK; QoS 2: PUBCOMP).
 */
export async function runPublisher({ kind, url, clientId, topic, qos, size, count, window }) {
  const client = await open(kind, url, clientId);
  const payload = filler(size);
  let inFlight = 0;
  let wake = null;
  let failed = null;
  const settle = () => { inFlight -= 1; wake?.(); };
  const start = clock();
  for (let i = 0; i < count; i++) {
    while (inFlight >= window) await new Promise((r) => { wake = r; });
    if (failed) throw failed;
    inFlight += 1;
    client.publish(topic, payload, qos).then(settle, (e) => { failed = e; settle(); });
  }
  while (inFlight > 0) await new Promise((r) => { wake = r; });
  const end = clock();
  await client.end();
  if (failed) throw failed;
  return { start, end };
}

/**
 * Publishes at a fixed `rate` (msg/s) for `count` messages: on each timer turn, every message
 * whose time has come, each carrying its send time at the start of the payload.
 */
export async function runPacedPublisher({ kind, url, clientId, topic, qos, size, count, rate }) {
  const client = await open(kind, url, clientId);
  const pad = filler(size);
  const pending = [];
  const start = clock();
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((clock() - start) * rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const stamp = clock().toFixed(3).padEnd(24, ' ');
      pending.push(client.publish(topic, stamp + pad.slice(24), qos));
    }
    await new Promise((r) => setTimeout(r, 0));
  }
  await Promise.all(pending);
  await client.end();
  return { start, end: clock() };
}

let looped = null;

/** Memory and CPU runs: one client subscribed to its own topic; see loopMessages, loopPaced. */
export async function startLoop({ kind, url, clientId, topic, size, qos = 0 }) {
  const client = await open(kind, url, clientId);
  looped = { client, topic, qos, payload: filler(size), received: 0, wake: null };
  await client.subscribe(topic, qos, () => {
    looped.received += 1;
    looped.wake?.();
  });
}

/**
 * Sends `count` more QoS 0 messages through the loop client and waits until they came back,
 * with at most `window` on the way at once (so neither side queues without bound).
 */
export async function loopMessages(count, window = 500) {
  const state = looped;
  const target = state.received + count;
  let sent = state.received;
  while (state.received < target) {
    while (sent < target && sent - state.received < window) {
      state.client.publish(state.topic, state.payload, 0).catch(() => {});
      sent += 1;
    }
    await new Promise((r) => { state.wake = r; });
  }
  state.wake = null;
  return state.received;
}

/**
 * CPU run: offers `count` more messages through the loop client at `rate` msg/s (a timer every
 * `tick` ms publishes every message whose time has come), then waits until they came back and
 * every publish settled, for at most `drainMs` after the last publish. A client that falls
 * behind shows as an offered rate below `rate` or as fewer delivered than offered.
 */
export async function loopPaced({ count, rate, tick = 10, drainMs = 10_000 }) {
  const state = looped;
  const base = state.received;
  const publishes = [];
  let failed = null;
  const start = performance.now();
  await new Promise((resolve) => {
    let sent = 0;
    const timer = setInterval(() => {
      const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      for (; sent < due; sent++) {
        publishes.push(state.client.publish(state.topic, state.payload, state.qos).catch((e) => { failed ??= e; }));
      }
      if (sent === count) { clearInterval(timer); resolve(); }
    }, tick);
  });
  const published = performance.now();
  const timeout = new Promise((r) => setTimeout(r, drainMs));
  const back = (async () => {
    while (state.received - base < count) await new Promise((r) => { state.wake = r; });
  })();
  const drained = await Promise.race([Promise.all([back, Promise.all(publishes)]).then(() => true), timeout.then(() => false)]);
  state.wake = null;
  return {
    offered: count, delivered: state.received - base, drained,
    offeredRate: count / Math.max(1e-3, (published - start) / 1000),
    seconds: (performance.now() - start) / 1000, drainSeconds: (performance.now() - published) / 1000,
    error: failed ? String(failed.message ?? failed) : null,
  };
}

export async function endLoop() {
  await looped?.client.end();
  looped = null;
}

export { wasmMemoryBytes };

/**
 * The in-flight window's flow: `count` QoS 1 publishes of `size` bytes at once, from a client
 * with `inflightWindow`; meanwhile a SUBSCRIBE round trip every 200 ms, which waits behind
 * whatever the window put on the path (as a PINGREQ, an acknowledgement or a request would).
 */
export async function runWindowBurst({ url, clientId, inflightWindow, count, size }) {
  const client = await connect(url, {
    clientId, persistence: 'memory', reconnect: false, protocolVersion: 5, inflightWindow,
    queue: { maxMessages: count, maxBytes: count * (size + 64) },
  });
  const publishMs = new Float64Array(count);
  const controlMs = [];
  let windowMax = 0;
  const trajectory = [];
  const sampler = setInterval(() => trajectory.push(client.metrics().window), 100);
  const start = performance.now();
  const publishes = [];
  for (let i = 0; i < count; i++) {
    const sent = performance.now();
    publishes.push(client.publish('bench/window', filler(size), { qos: 1 }).then(() => { publishMs[i] = performance.now() - sent; }));
  }
  let done = false;
  const all = Promise.all(publishes).then(() => { done = true; });
  for (let i = 0; !done; i++) {
    const asked = performance.now();
    await client.subscribe(`bench/control/${i}`, { qos: 0 });
    controlMs.push(performance.now() - asked);
    windowMax = Math.max(windowMax, client.metrics().window);
    await new Promise((r) => setTimeout(r, 200));
  }
  await all;
  clearInterval(sampler);
  const elapsedMs = performance.now() - start;
  await client.end();
  const pct = (values, p) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
  };
  return {
    elapsedMs,
    messagesPerSecond: (count * 1000) / elapsedMs,
    publishP50: pct(publishMs, 50), publishP99: pct(publishMs, 99),
    controlP50: pct(controlMs, 50), controlP99: pct(controlMs, 99), controlMax: Math.max(...controlMs),
    controls: controlMs.length, windowMax, trajectory,
  };
}
