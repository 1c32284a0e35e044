// Latency: publish-to-handler time at a fixed rate, p50 / p99 / max, publisher and subscriber
// on two pages of one browser (one clock: performance.timeOrigin + now).
import { startBench, CLIENTS } from './common.mjs';

export const RATE = 1000;
export const COUNT = 5000;
export const SIZE = 100;

export async function run() {
  const bench = await startBench();
  const runs = [];
  try {
    for (const qos of [0, 1, 2]) {
      for (const client of CLIENTS) {
        const pub = await bench.page();
        const sub = await bench.page();
        const topic = `bench/l/${bench.id('topic')}`;
        const url = bench.url;
        await sub.evaluate((a) => window.startSubscriber(a), { kind: client, url, clientId: bench.id('sub'), topic, qos, count: COUNT, latency: true });
        let error = null;
        try {
          await pub.evaluate((a) => window.runPacedPublisher(a), { kind: client, url, clientId: bench.id('pub'), topic, qos, size: SIZE, count: COUNT, rate: RATE });
        } catch (e) {
          error = e.message.split('\n')[0];
        }
        const got = await sub.evaluate((t) => window.subscriberResult(t), 30_000);
        const r = { client, qos, size: SIZE, rate: RATE, count: COUNT, received: got.received, ...got.delays, error };
        console.log(`${client} QoS ${qos}: p50 ${r.p50?.toFixed(2)} ms, p99 ${r.p99?.toFixed(2)} ms, max ${r.max?.toFixed(2)} ms (${got.received}/${COUNT})`);
        runs.push(r);
        await pub.close();
        await sub.close();
      }
    }
  } finally {
    runs.drops = bench.broker.droppedMessageReports();
    await bench.close();
  }
  return { runs, brokerDropReports: runs.drops };
}
