// The in-flight window over a slowed path (issue #18.2): a fault proxy limited to 200 KB/s each
// way with 20 ms of delay, in front of the bench's WebSocket bridge to mosquitto. The same
// burst of QoS 1 publishes with the fixed window (the broker's Receive Maximum, 65535 with the
// bench settings) and with the adaptive one: throughput, publish latency, and the round trip of
// a SUBSCRIBE sent during the burst (what shares the connection waits behind the window).
import { startBench, SCALE } from './common.mjs';
import { startFaultProxy } from '../lib/fault-proxy.mjs';

export const RATE = 200_000;
export const DELAY_MS = 20;
export const COUNT = Math.round(4000 * SCALE);
export const SIZE = 200;

export async function run() {
  const bench = await startBench();
  const proxy = await startFaultProxy({ targetPort: Number(new URL(bench.url).port) });
  proxy.delay(DELAY_MS);
  proxy.rate(RATE);
  const runs = [];
  try {
    for (const inflightWindow of ['fixed', 'adaptive', 'fixed', 'adaptive']) {
      const page = await bench.page();
      const r = await page.evaluate((a) => window.runWindowBurst(a), {
        url: proxy.wsUrl, clientId: bench.id('window'), inflightWindow, count: COUNT, size: SIZE,
      });
      await page.close();
      console.log(`${inflightWindow}: ${r.messagesPerSecond.toFixed(0)} msg/s, publish p50 ${r.publishP50.toFixed(0)} / p99 ${r.publishP99.toFixed(0)} ms, SUBSCRIBE round trip p50 ${r.controlP50.toFixed(0)} / p99 ${r.controlP99.toFixed(0)} / max ${r.controlMax.toFixed(0)} ms (${r.controls}), window up to ${r.windowMax}`);
      const { trajectory, ...figures } = r;
      // WINDOW_TRACE=1: the window every 100 ms, to see how it moved.
      if (process.env.WINDOW_TRACE) console.log(trajectory.join(' '));
      runs.push({ inflightWindow, count: COUNT, size: SIZE, rate: RATE, delayMs: DELAY_MS, ...figures });
    }
  } finally {
    await proxy.close();
    await bench.close();
  }
  return { runs };
}
