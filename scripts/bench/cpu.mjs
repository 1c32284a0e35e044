// Main-thread CPU per message (issue #14 point 6): one page subscribes to a topic and publishes
// to it at a fixed offered rate (publisher and subscriber in one page, so each message costs its
// publish and its delivery), through the same broker path for every client. After a warm-up,
// CDP Performance.getMetrics is read before and after a measured window of messages; the
// TaskDuration and ScriptDuration deltas divided by the messages delivered in the window give
// microseconds of main-thread time per message. Those are wall-clock durations of tasks, which a
// busy machine stretches; ThreadTime (the main thread's CPU time) and ProcessTime (the renderer
// process's, every thread) are recorded beside them as the check that does not move with load.
// Then, apart from the measured runs (the profiler costs CPU), DevTools CPU profiles of the
// PROFILED cases, the same loop without a client (bench/clients.js 'loopback'): the
// harness's own share of every figure; and a bare WebSocket with MQTT packets made by hand at
// each QoS ('websocket'): the browser's own cost of the path, which no client can go below.
import { startBench, profile, SCALE, TRANSPORT } from './common.mjs';

/** The clients compared: wasmqtt in both persistence modes against MQTT.js (in memory). */
export const CPU_CLIENTS = ['wasmqtt-memory', 'wasmqtt-indexeddb', 'mqttjs']
  .filter((c) => !process.env.BENCH_CLIENTS || process.env.BENCH_CLIENTS.split(',').includes(c));
/** Offered rate, msg/s (BENCH_CPU_RATE). */
export const RATE = Number(process.env.BENCH_CPU_RATE || 2000);
/** Messages in the warm-up and in the measured window of each run (scaled by BENCH_SCALE). */
export const WARMUP = Math.ceil(2_000 * SCALE);
export const MEASURED = Math.ceil(10_000 * SCALE);
export const CPU_CASES = [0, 1, 2].flatMap((qos) => [100, 4096].map((size) => ({ qos, size })));
/**
 * Profiled after the measured runs: where the time goes in the cheapest case, for both clients,
 * and in IndexedDB mode at QoS 1 (what the store and the journal cost per message).
 */
export const PROFILED = [
  ...['wasmqtt-memory', 'mqttjs'].map((client) => ({ client, qos: 0, size: 100 })),
  { client: 'wasmqtt-indexeddb', qos: 1, size: 100 },
].filter(({ client }) => CPU_CLIENTS.includes(client));
/** Rounds of every case (BENCH_REPEAT, default 3); the report shows the median. */
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT || 3));
/**
 * A client kept up when it offered at least KEPT_UP of RATE, got every message back, and had
 * them all back within MAX_DRAIN_S of its last publish (a longer tail is a backlog).
 */
export const KEPT_UP = 0.95;
export const MAX_DRAIN_S = 1;

/** The Performance.getMetrics figures kept, seconds each, by the name the results use. */
const METRICS = { taskUs: 'TaskDuration', scriptUs: 'ScriptDuration', threadUs: 'ThreadTime', processUs: 'ProcessTime' };

const metrics = async (cdp) => {
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(Object.entries(METRICS).map(([key, name]) => [key, list.find((m) => m.name === name)?.value ?? 0]));
};

/** How long a page step may take (a connect that never settles must not stop the benchmark). */
const STEP_TIMEOUT_MS = 60_000;

function evaluate(page, fn, arg) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer in ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS); });
  return Promise.race([page.evaluate(fn, arg), late]).finally(() => clearTimeout(timer));
}

/**
 * One run: a fresh page, warm-up, then the measured window. Profiled instead, it also counts the
 * WebSocket frames each way (CDP Network events, which cost the page CPU too). A client that
 * fails is reported as such, and the other runs go on.
 */
export async function runOne(bench, { client, qos, size }, { withProfile = false } = {}) {
  const page = await bench.page();
  try {
    return await measure(bench, page, { client, qos, size }, withProfile);
  } catch (e) {
    return { client, qos, size, rate: RATE, offered: MEASURED, delivered: 0, keptUp: false, taskUs: null, scriptUs: null, error: e.message.split('\n')[0] };
  } finally {
    await page.close();
  }
}

async function measure(bench, page, { client, qos, size }, withProfile) {
  const cdp = await page.context().newCDPSession(page);
  const frames = { sent: 0, received: 0 };
  if (withProfile) {
    cdp.on('Network.webSocketFrameSent', () => { frames.sent += 1; });
    cdp.on('Network.webSocketFrameReceived', () => { frames.received += 1; });
    await cdp.send('Network.enable');
  }
  await evaluate(page, (a) => window.startLoop(a), { kind: client, url: bench.url, clientId: bench.id('cpu'), topic: `bench/c/${bench.id('topic')}`, size, qos });
  const warm = await evaluate(page, (a) => window.loopPaced(a), { count: WARMUP, rate: RATE });
  await cdp.send('Performance.enable');
  const stop = withProfile ? await profile(page) : null;
  Object.assign(frames, { sent: 0, received: 0 });
  const before = await metrics(cdp);
  const w = await evaluate(page, (a) => window.loopPaced(a), { count: MEASURED, rate: RATE });
  const after = await metrics(cdp);
  const profiled = stop ? { ...await stop(Number(process.env.PROFILE_TOP || 15)), framesSent: frames.sent, framesReceived: frames.received } : undefined;
  await evaluate(page, () => window.endLoop()).catch(() => {});
  const per = (key) => (w.delivered ? ((after[key] - before[key]) * 1e6) / w.delivered : null);
  return {
    client, qos, size, rate: RATE, ...w,
    ...Object.fromEntries(Object.keys(METRICS).map((key) => [key, per(key)])),
    keptUp: w.drained && w.delivered === w.offered && w.offeredRate >= KEPT_UP * RATE && w.drainSeconds <= MAX_DRAIN_S,
    warmup: { delivered: warm.delivered, offered: warm.offered, drained: warm.drained },
    profile: profiled,
  };
}

/** The run with the median task time, carrying every round's figures in the order run. */
function median(runs) {
  const sorted = [...runs].sort((a, b) => (a.taskUs ?? Infinity) - (b.taskUs ?? Infinity));
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  return {
    ...middle,
    rounds: runs.map((r) => ({ taskUs: r.taskUs, scriptUs: r.scriptUs, threadUs: r.threadUs, processUs: r.processUs, delivered: r.delivered, offeredRate: r.offeredRate, drainSeconds: r.drainSeconds, keptUp: r.keptUp })),
    keptUp: runs.every((r) => r.keptUp),
  };
}

const show = (r) => `${r.client} QoS ${r.qos} ${r.size} B: us/msg task ${r.taskUs?.toFixed(1)}, script ${r.scriptUs?.toFixed(1)}, ` +
  `thread ${r.threadUs?.toFixed(1)}, process ${r.processUs?.toFixed(1)}; ` +
  `${r.delivered}/${r.offered} delivered, offered at ${Math.round(r.offeredRate)} msg/s${r.keptUp ? '' : ' (DID NOT KEEP UP)'}${r.error ? ` error: ${r.error}` : ''}`;

export async function run() {
  const bench = await startBench();
  const runs = [];
  const profiled = [];
  let baseline;
  const floor = [];
  let drops;
  try {
    // The clients take turns within each round, so a slow spell of the machine does not fall on one.
    const rounds = new Map();
    for (let round = 1; round <= REPEAT; round++) {
      for (const c of CPU_CASES) {
        for (const client of CPU_CLIENTS) {
          const r = await runOne(bench, { client, ...c });
          console.log(`round ${round}: ${show(r)}`);
          const key = `${client} ${c.qos} ${c.size}`;
          rounds.set(key, [...(rounds.get(key) ?? []), r]);
        }
      }
    }
    for (const each of rounds.values()) runs.push(median(each));
    for (const p of PROFILED) {
      const r = await runOne(bench, p, { withProfile: true });
      console.log(`profiled: ${show(r)}`);
      profiled.push(r);
    }
    baseline = await runOne(bench, { client: 'loopback', qos: 0, size: 100 });
    console.log(`baseline: ${show(baseline)}`);
    // The floor of the path: a bare WebSocket with MQTT by hand, every case, median of REPEAT.
    for (const c of CPU_CASES) {
      const each = [];
      for (let round = 1; round <= REPEAT; round++) each.push(await runOne(bench, { client: 'websocket', ...c }));
      const r = median(each);
      console.log(`floor: ${show(r)}`);
      floor.push(r);
    }
  } finally {
    drops = bench.broker.droppedMessageReports();
    await bench.close();
  }
  return {
    runs, profiled, baseline, floor, rate: RATE, warmup: WARMUP, measured: MEASURED, repeat: REPEAT, keptUpShare: KEPT_UP, maxDrainSeconds: MAX_DRAIN_S,
    transport: TRANSPORT, scale: SCALE, brokerDropReports: drops,
  };
}
