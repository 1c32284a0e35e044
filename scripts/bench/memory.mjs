// Memory: one wasmqtt client (memory persistence) sends QoS 0 100-byte messages to a topic it
// subscribes to, 1 000 000 in all; JS heap (after a forced GC, CDP Runtime.getHeapUsage) and
// wasm memory (the module's WebAssembly.Memory byteLength) are read after 10 000 and then at
// every step. Flat means: the level at the end within a fixed bound of the level at 10 000.
import { startBench } from './common.mjs';

export const TOTAL = Number(process.env.BENCH_MEMORY_MESSAGES || 1_000_000);
const FIRST = 10_000;
const STEP = 90_000;
/** Growth allowed from 10 000 to the end: one wasm page of slack aside, 1 MiB. */
export const BOUND = 1024 * 1024;

export async function run() {
  const bench = await startBench();
  const samples = [];
  try {
    const page = await bench.page();
    const cdp = await page.context().newCDPSession(page);
    const sample = async (messages) => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { usedSize } = await cdp.send('Runtime.getHeapUsage');
      const wasm = await page.evaluate(() => window.wasmMemoryBytes());
      samples.push({ messages, jsHeap: usedSize, wasm });
      console.log(`${messages} messages: JS heap ${(usedSize / 1048576).toFixed(2)} MiB, wasm ${(wasm / 1048576).toFixed(2)} MiB`);
    };
    await page.evaluate((a) => window.startLoop(a), { kind: 'wasmqtt-memory', url: bench.url, clientId: bench.id('loop'), topic: `bench/m/${bench.id('topic')}`, size: 100 });
    let done = 0;
    const started = Date.now();
    while (done < TOTAL) {
      const step = done === 0 ? FIRST : Math.min(STEP, TOTAL - done);
      done = await page.evaluate((n) => window.loopMessages(n), step);
      await sample(done);
    }
    const seconds = (Date.now() - started) / 1000;
    await page.evaluate(() => window.endLoop());
    await page.close();
    const first = samples[0];
    const last = samples[samples.length - 1];
    return {
      client: 'wasmqtt-memory', total: TOTAL, seconds, bound: BOUND, samples,
      jsGrowth: last.jsHeap - first.jsHeap, wasmGrowth: last.wasm - first.wasm,
      brokerDropReports: bench.broker.droppedMessageReports(),
    };
  } finally {
    await bench.close();
  }
}
