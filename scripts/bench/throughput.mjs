// End-to-end throughput: a publisher page and a subscriber page (same library) through the
// local mosquitto, every client x QoS x payload size; rate = messages / (last delivery - first
// publish). Then, apart from the measured runs (the profiler costs CPU), wasmqtt and MQTT.js are
// profiled at QoS 0 and 1 with small payloads (DevTools CPU profiles of both pages).
import { startBench, profile, CASES, CLIENTS, SCALE, TRANSPORT, WINDOW, PAHO_LARGE_WINDOW, windowFor } from './common.mjs';

const TIMEOUT_MS = 90_000;
const PROFILED_CLIENTS = ['wasmqtt-memory', 'mqttjs'];
/** Rounds of every case (BENCH_REPEAT, default 3): one run's ratio moves too much to rank. */
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT || 3));

/** The run with the median rate, carrying every round's rate; incomplete if any round was. */
function median(runs) {
  const sorted = [...runs].sort((a, b) => a.rate - b.rate);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  const broken = runs.find((r) => !r.complete);
  return { ...middle, rates: runs.map((r) => r.rate), complete: !broken, ...(broken ? { received: broken.received, error: broken.error } : {}) };
}
const DIRECT_CASES = [
  { qos: 0, size: 100, count: Math.ceil(2000 * SCALE) },
  { qos: 1, size: 100, count: Math.ceil(2000 * SCALE) },
  { qos: 0, size: 4096, count: Math.ceil(100 * SCALE) },
];

export async function runOne(bench, pub, sub, { client, qos, size, count }, { withProfile = false, url = bench.url } = {}) {
  const topic = `bench/t/${bench.id('topic')}`;
  await sub.evaluate((a) => window.startSubscriber(a), { kind: client, url, clientId: bench.id('sub'), topic, qos, count });
  const stops = withProfile ? [await profile(pub), await profile(sub)] : null;
  let published;
  let error = null;
  try {
    published = await pub.evaluate((a) => window.runPublisher(a), { kind: client, url, clientId: bench.id('pub'), topic, qos, size, count, window: windowFor(client, size) });
  } catch (e) {
    error = e.message.split('\n')[0];
  }
  const got = await sub.evaluate((t) => window.subscriberResult(t), error ? 1000 : TIMEOUT_MS);
  const profiles = stops ? { publisher: await stops[0](), subscriber: await stops[1]() } : undefined;
  const seconds = published ? (got.last - published.start) / 1000 : null;
  return {
    client, qos, size, count, received: got.received,
    seconds, rate: seconds && got.received ? got.received / seconds : 0,
    complete: got.received === count && !error, error, profiles,
  };
}

export async function run() {
  const bench = await startBench();
  const runs = [];
  const direct = [];
  const profiled = [];
  try {
    // Each case REPEAT times, the clients taking turns within each round, so that a slow spell
    // of the machine does not fall on one client; the table shows the median.
    const rounds = new Map();
    for (let round = 1; round <= REPEAT; round++) {
      for (const c of CASES) {
        for (const client of CLIENTS) {
          const pub = await bench.page();
          const sub = await bench.page();
          const r = await runOne(bench, pub, sub, { client, ...c });
          console.log(`round ${round}: ${client} QoS ${c.qos} ${c.size} B: ${Math.round(r.rate)} msg/s${r.complete ? '' : ` (INCOMPLETE: ${r.received}/${c.count} ${r.error ?? ''})`}`);
          const key = `${client} ${c.qos} ${c.size}`;
          rounds.set(key, [...(rounds.get(key) ?? []), r]);
          await pub.close();
          await sub.close();
        }
      }
    }
    for (const each of rounds.values()) runs.push(median(each));
    for (const c of CASES.filter(({ qos, size }) => qos <= 1 && size === 100)) {
      for (const client of PROFILED_CLIENTS.filter((k) => CLIENTS.includes(k))) {
        const pub = await bench.page();
        const sub = await bench.page();
        const r = await runOne(bench, pub, sub, { client, ...c }, { withProfile: true });
        console.log(`profiled: ${client} QoS ${c.qos} ${c.size} B: ${Math.round(r.rate)} msg/s`);
        profiled.push(r);
        await pub.close();
        await sub.close();
      }
    }
    // mosquitto's own WebSocket listener, a few small runs: what a browser gets without the bridge.
    if (TRANSPORT === 'bridge') {
      for (const c of DIRECT_CASES) {
        for (const client of ['wasmqtt-memory', 'mqttjs']) {
          const pub = await bench.page();
          const sub = await bench.page();
          const r = await runOne(bench, pub, sub, { client, ...c }, { url: bench.directUrl });
          console.log(`direct: ${client} QoS ${c.qos} ${c.size} B: ${Math.round(r.rate)} msg/s${r.complete ? '' : ' (INCOMPLETE)'}`);
          direct.push(r);
          await pub.close();
          await sub.close();
        }
      }
    }
  } finally {
    runs.drops = bench.broker.droppedMessageReports();
    await bench.close();
  }
  return { runs, direct, profiled, repeat: REPEAT, transport: TRANSPORT, scale: SCALE, brokerDropReports: runs.drops, window: WINDOW, pahoLargeWindow: PAHO_LARGE_WINDOW };
}
