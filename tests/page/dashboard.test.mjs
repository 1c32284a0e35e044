// Page level: the dashboard as `npm start` runs it (scripts/lib/demo.mjs: mosquitto, fault proxy,
// sensor simulator, server), in Chromium. Live data reaches the charts, device states follow
// retained and will messages, and the fault buttons lose nothing.
// UPDATE_SCREENSHOT=1 writes the screenshot to www/screenshot.png (the one the README shows).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDemo } from '../../scripts/lib/demo.mjs';
import { launchBrowser } from '../../scripts/lib/browser.mjs';
import { ROOT } from '../../scripts/lib/serve.mjs';

let demo, browser, page;
before(async () => {
  demo = await startDemo({ intervalMs: 100 });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(demo.url);
});
after(async () => {
  await browser?.close();
  await demo?.close();
});

const text = (selector) => page.locator(selector).textContent();
const waitConnected = (timeout = 15_000) => page.locator('#status[data-state="connected"]').waitFor({ timeout });

/** Counts the pixels of a chart's canvas drawn in the first series' colour. */
function seriesPixels(metric) {
  return page.evaluate((name) => {
    const canvas = document.querySelector(`.chart[data-metric="${name}"] canvas`);
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      // #1a73e8, allowing for anti-aliasing.
      if (Math.abs(data[i] - 26) < 40 && Math.abs(data[i + 1] - 115) < 40 && Math.abs(data[i + 2] - 232) < 40 && data[i + 3] > 128) count += 1;
    }
    return count;
  }, metric);
}

test('the dashboard shows live charts per metric and every device online', async () => {
  await waitConnected();
  const metrics = [...new Set(demo.sensors.devices.flatMap((d) => d.metrics))];
  assert.deepEqual(await page.locator('.chart').evaluateAll((els) => els.map((e) => e.dataset.metric)), metrics);
  for (const metric of metrics) {
    await page.locator(`.chart[data-metric="${metric}"][data-points]`).waitFor({ timeout: 10_000 });
    await page.waitForFunction((m) => Number(document.querySelector(`.chart[data-metric="${m}"]`).dataset.points) >= 20, metric);
    assert.ok(await seriesPixels(metric) > 100, `a line is drawn on the ${metric} chart`);
  }
  for (const { device } of demo.sensors.devices) {
    await page.locator(`#devices li[data-device="${device}"][data-status="online"]`).waitFor({ timeout: 10_000 });
  }
  await page.waitForFunction(() => Number(document.querySelector('dd[data-metric="messagesPerSecond"]').textContent) > 0);
  const shot = await page.screenshot({ fullPage: true });
  assert.equal(shot.subarray(1, 4).toString(), 'PNG');
  const file = process.env.UPDATE_SCREENSHOT
    ? path.join(ROOT, 'www', 'screenshot.png')
    : path.join(mkdtempSync(path.join(os.tmpdir(), 'wasmqtt-dashboard-')), 'screenshot.png');
  writeFileSync(file, shot);
});

test('a device that dies shows offline through its will', async () => {
  const { device } = demo.sensors.devices.at(-1);
  demo.sensors.kill(device);
  await page.locator(`#devices li[data-device="${device}"][data-status="offline"]`).waitFor({ timeout: 10_000 });
});

test('a command at QoS 2 is acknowledged and answered by its device', async () => {
  const { device } = demo.sensors.devices[0];
  await page.selectOption('#command select[name="device"]', device);
  await page.selectOption('#command select[name="qos"]', '2');
  await page.fill('#command input[name="text"]', 'calibrate');
  await page.click('#command button[type="submit"]');
  const entry = page.locator('#log li').first();
  await page.locator('#log li[data-state="replied"]').first().waitFor({ timeout: 10_000 });
  assert.match(await entry.textContent(), new RegExp(`calibrate#\\w+ → ${device} \\(QoS 2\\): done, device replied \\(received at QoS 2\\)`));
});

test('cutting the connection and reloading the page lose nothing and show nothing twice', async () => {
  const received = () => page.evaluate(() => window.dashboard.client.metrics().received);
  await page.click('#cut');
  await page.locator('#status[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
  await waitConnected();
  assert.ok(Number(await text('#attempts')) >= 1, 'the reconnect is counted');
  assert.equal(await text('#session'), 'session resumed');

  await page.reload();
  await waitConnected();
  assert.equal(await text('#session'), 'session resumed');
  const after = await received();
  await page.waitForFunction((n) => window.dashboard.client.metrics().received > n + 50, after);

  await page.click('#outage');
  await page.locator('#status[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
  const outageStart = Date.now();
  await waitConnected(30_000); // 10 s of refused connections, then the next backoff step (<= 5 s)
  assert.ok(Date.now() - outageStart > 8_000, 'the outage refused connections for its 10 s');
  const resumed = await received();
  await page.waitForFunction((n) => window.dashboard.client.metrics().received > n + 50, resumed);

  // The audit compares each series' sequence numbers across the cut, the reload and the outage.
  assert.equal(await text('#gaps'), '0', 'no telemetry lost');
  assert.equal(await text('#repeats'), '0', 'no telemetry shown twice');
  const audited = await page.evaluate(() => Object.keys(window.dashboard.audit.last).length);
  assert.equal(audited, demo.sensors.devices.reduce((n, d) => n + d.metrics.length, 0));
});
