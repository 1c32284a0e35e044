// The adaptive heartbeat (keepalive: 'auto') against the seed's fixed setting (keepalive 30 s,
// 10 s ping timeout), side by side in one page, through fault proxies in front of a real
// mosquitto: a storm of 10 s delays with jitter, and a half-open link. The exact thresholds are
// host-tested in src/session/heartbeat.rs; this shows them hold over real sockets and timers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './lib/harness.mjs';
import { until } from './lib/wait.mjs';
import { startFaultProxy } from '../../scripts/lib/fault-proxy.mjs';

let h;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

const FIXED = { keepalive: 30, pingTimeout: 10_000 };
const AUTO = { keepalive: 'auto' };

/** Starts one client per entry of `clients` ({ name, url, options }) in `page`; each one's closes are kept. */
async function startClients(page, clients) {
  await page.evaluate(async (clients) => {
    window.started = performance.now();
    window.closes = {};
    window.clients = {};
    await Promise.all(clients.map(async ({ name, url, options }) => {
      const client = new window.wasmqtt.MqttClient(url, { persistence: 'memory', ...options });
      window.closes[name] = [];
      client.on('close', (d) => window.closes[name].push({ reason: d.reason, at: performance.now() - window.started }));
      client.on('error', () => {});
      window.clients[name] = client;
      await client.ready;
    }));
  }, clients);
}

const closes = (page) => page.evaluate(() => window.closes);
const metrics = (page, name) => page.evaluate((name) => window.clients[name].metrics(), name);

test('a storm of 10-11 s round trips: the fixed 30 s / 10 s heartbeat drops the link, the adaptive one keeps it; a half-open link: the adaptive one notices first', { timeout: 120_000 }, async () => {
  const storm = await startFaultProxy({ targetPort: h.broker.wsPort });
  const halfOpen = await startFaultProxy({ targetPort: h.broker.wsPort });
  try {
    const page = await h.page();
    await startClients(page, [
      { name: 'stormFixed', url: storm.wsUrl, options: FIXED },
      { name: 'stormAuto', url: storm.wsUrl, options: AUTO },
      { name: 'stalledFixed', url: halfOpen.wsUrl, options: { ...FIXED, reconnect: false } },
      { name: 'stalledAuto', url: halfOpen.wsUrl, options: { ...AUTO, reconnect: false } },
    ]);
    const calm = await metrics(page, 'stormAuto');
    assert.equal(calm.keepaliveIntervalMs, 5_000, 'a fast link is probed every 5 s');
    // 5-5.5 s each way: every answer comes 10-11 s after its question, past the fixed 10 s.
    storm.delay(5_000, { jitter: 500 });
    halfOpen.stall(true);
    const stalledAt = await page.evaluate(() => performance.now() - window.started);

    // The fixed client's first PINGREQ goes out 30 s after it connected; it gives up 10 s later.
    await until(async () => (await closes(page)).stormFixed.length > 0, 60_000, 'the fixed heartbeat dropped the stormy link');
    await until(async () => (await closes(page)).stalledFixed.length > 0, 60_000, 'the fixed heartbeat noticed the half-open link');
    const seen = await closes(page);
    assert.equal(seen.stormFixed[0].reason, 'keepalive timeout');
    assert.deepEqual(seen.stormAuto, [], 'the adaptive heartbeat kept the stormy link');
    const stormy = await metrics(page, 'stormAuto');
    assert.equal(stormy.connected, true);
    assert.ok(stormy.rttMs >= 10_000, `the adaptive client measured the storm: rtt ${stormy.rttMs} ms`);
    assert.ok(stormy.keepaliveIntervalMs > 5_000, `and stretched its interval to ${stormy.keepaliveIntervalMs} ms`);

    assert.equal(seen.stalledAuto[0]?.reason, 'keepalive timeout', 'the adaptive heartbeat noticed the half-open link');
    assert.equal(seen.stalledFixed[0].reason, 'keepalive timeout');
    const autoAfter = seen.stalledAuto[0].at - stalledAt;
    const fixedAfter = seen.stalledFixed[0].at - stalledAt;
    console.log(`figure: half-open link noticed ${(autoAfter / 1000).toFixed(1)} s (adaptive) vs ${(fixedAfter / 1000).toFixed(1)} s (fixed 30 s / 10 s) after it went silent; storm rtt ${stormy.rttMs} ms, adaptive interval ${stormy.keepaliveIntervalMs} ms`);
    assert.ok(autoAfter < fixedAfter, 'the adaptive heartbeat noticed it first');
    await page.evaluate(() => Promise.all(Object.values(window.clients).map((c) => c.end({ force: true }))));
  } finally {
    await storm.close();
    await halfOpen.close();
  }
});
