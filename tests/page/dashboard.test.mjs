// Page level: the dashboard as `npm start` runs it (scripts/lib/demo.mjs: mosquitto, fault proxy,
// sensor simulator, server), in Chromium at 1280x800. Live data reaches the charts (clock-time
// axes, legends with the latest values), every panel fits the screen, device states follow
// retained and will messages, the fault buttons lose nothing, and the charts keep their history
// across a reload.
// UPDATE_SCREENSHOT=1 writes the screenshot to www/screenshot.png (the one the README shows).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDemo } from '../../scripts/lib/demo.mjs';
import { launchBrowser } from '../../scripts/lib/browser.mjs';
import { ROOT } from '../../scripts/lib/serve.mjs';

const VIEWPORT = { width: 1280, height: 800 };
let demo, browser, page;
before(async () => {
  demo = await startDemo({ intervalMs: 100 });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: VIEWPORT });
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(demo.url);
});
after(async () => {
  await browser?.close();
  await demo?.close();
});

const text = (selector) => page.locator(selector).textContent();
const waitConnected = (timeout = 15_000) => page.locator('#status[data-state="connected"]').waitFor({ timeout });

const waitEcho = () => page.waitForFunction(() => /^\d+ ms$/.test(document.querySelector('dd[data-metric="echoMs"]').textContent));

/** Every panel, control and the command log lie within the viewport, and the page does not scroll. */
async function assertOnScreen(when) {
  const boxes = await page.evaluate(() => [...document.querySelectorAll('header, section, .chart, #command, #log, button')]
    .filter((el) => !el.hidden)
    .map((el) => ({ name: el.id || el.getAttribute('aria-label') || el.dataset.metric || el.tagName, ...el.getBoundingClientRect().toJSON() })));
  assert.ok(boxes.length >= 12, `${when}: panels found`);
  for (const { name, left, top, right, bottom, height } of boxes) {
    assert.ok(left >= 0 && top >= 0 && right <= VIEWPORT.width && bottom <= VIEWPORT.height && height > 0,
      `${when}: ${name} at ${left},${top}..${right},${bottom} within ${VIEWPORT.width}x${VIEWPORT.height}`);
  }
  const scroll = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]);
  assert.deepEqual(scroll, [VIEWPORT.width, VIEWPORT.height], `${when}: nothing below the fold`);
}

/** The README's screenshot: the dashboard after a cut, a reload and an outage, a device dead. */
async function saveScreenshot() {
  const shot = await page.screenshot();
  assert.equal(shot.subarray(1, 4).toString(), 'PNG');
  const file = process.env.UPDATE_SCREENSHOT
    ? path.join(ROOT, 'www', 'screenshot.png')
    : path.join(mkdtempSync(path.join(os.tmpdir(), 'wasmqtt-dashboard-')), 'screenshot.png');
  writeFileSync(file, shot);
}

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
    // About 5 s of lines: three devices a chart, a point each every 100 ms.
    await page.waitForFunction((m) => Number(document.querySelector(`.chart[data-metric="${m}"]`).dataset.points) >= 150, metric);
    assert.ok(await seriesPixels(metric) > 100, `a line is drawn on the ${metric} chart`);
  }
  for (const { device } of demo.sensors.devices) {
    await page.locator(`#devices li[data-device="${device}"][data-status="online"]`).waitFor({ timeout: 10_000 });
  }
  await page.waitForFunction(() => Number(document.querySelector('dd[data-metric="messagesPerSecond"]').textContent) > 0);

  // Time axes read as clock times; legends show each device's latest value, not "--".
  for (const metric of metrics) {
    const ticks = (await page.locator(`.chart[data-metric="${metric}"]`).getAttribute('data-ticks')).split(' ');
    assert.ok(ticks.length >= 3, `${metric}: ${ticks.length} ticks`);
    for (const tick of ticks) assert.match(tick, /^\d\d:\d\d:\d\d$/, `${metric} axis tick`);
    const values = await page.locator(`.chart[data-metric="${metric}"] .legend .value`).allTextContents();
    assert.equal(values.length, demo.sensors.devices.filter((d) => d.metrics.includes(metric)).length);
    for (const value of values) assert.match(value, /^-?\d+(\.\d)?$/, `${metric} legend value`);
  }
  // The round trip is shown in ms once measured: the page's echo through the broker always,
  // the client's ping round trip (rttMs) as "—" until a PINGREQ/PINGRESP measured it.
  await waitEcho();
  assert.match(await text('dd[data-metric="rttMs"]'), /^(—|\d+ ms)$/);
  // The consumer-lag panels (#18.4): the simulator stamps its telemetry (wasmqtt-ts), so the
  // delivery lag is measured; queue age and bytes held are the client's own.
  const duration = /^(\d+ ms|\d+\.\d s)$/;
  await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('dd[data-metric="deliveryLagP99Ms"]').textContent), duration.source);
  assert.match(await text('dd[data-metric="deliveryLagP50Ms"]'), duration);
  assert.match(await text('dd[data-metric="oldestQueuedAgeMs"]'), duration);
  assert.match(await text('dd[data-metric="bytesHeld"]'), /^\d+(\.\d)? ?(B|kB|MB)$/);
  assert.match(await text('dd[data-metric="alerts"]'), /^(none|.+ > .+)/);
  await assertOnScreen('live');
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
  await assertOnScreen('with a command logged');
});

test("the README's demo section counts the demo's devices and rooms", () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The demo dashboard'));
  const [, devices, rooms] = section.match(/(\w+)\s+devices\s+in\s+(\w+)\s+rooms/);
  const number = (word) => ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'].indexOf(word) + 1 || Number(word);
  assert.equal(number(devices), demo.sensors.devices.length);
  assert.equal(number(rooms), new Set(demo.sensors.devices.map((d) => d.room)).size);
});

test('cutting the connection and reloading the page lose nothing and show nothing twice', async () => {
  const received = () => page.evaluate(() => window.dashboard.client.metrics().received);
  await page.click('#cut');
  await page.locator('#status[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
  await waitConnected();
  assert.ok(Number(await text('#attempts')) >= 1, 'the reconnect is counted');
  assert.equal(await text('#session'), 'session resumed');

  // The charts keep what they showed before the reload (sessionStorage), before any new message.
  const reloadAt = Date.now();
  await page.reload();
  const first = await page.waitForFunction(() => {
    const charts = [...document.querySelectorAll('.chart')];
    return charts.length && charts.every((c) => c.dataset.points) && charts.map((c) => Number(c.dataset.points));
  });
  for (const points of await first.jsonValue()) assert.ok(points >= 20, `${points} points right after the reload`);
  await waitConnected();
  assert.equal(await text('#session'), 'session resumed');
  const oldest = await page.evaluate(() => [...window.dashboard.charts.values()].map((c) => c.toJSON().xs[0] * 1000));
  for (const t of oldest) assert.ok(t < reloadAt - 1000, 'the history from before the reload is on the chart');
  const after = await received();
  await page.waitForFunction((n) => window.dashboard.client.metrics().received > n + 50, after);

  await page.click('#outage');
  await page.locator('#status[data-state="reconnecting"]').waitFor({ timeout: 10_000 });
  const outageStart = Date.now();
  await assertOnScreen('during an outage');
  await waitConnected(30_000); // 10 s of refused connections, then the next backoff step (<= 5 s)
  assert.ok(Date.now() - outageStart > 8_000, 'the outage refused connections for its 10 s');
  const resumed = await received();
  await page.waitForFunction((n) => window.dashboard.client.metrics().received > n + 50, resumed);
  // What the broker kept for the 10 s away arrives late: the delivery lag p99 crosses its 5 s
  // alert threshold, and the alerts panel says so while it is raised.
  await page.waitForFunction(() => window.dashboard.alerts.some((a) => a.metric === 'deliveryLagP99Ms' && a.state === 'raised'), null, { timeout: 10_000 });
  const lagAlert = await page.evaluate(() => {
    const events = window.dashboard.alerts.filter((a) => a.metric === 'deliveryLagP99Ms');
    const tile = document.querySelector('dd[data-metric="alerts"]');
    return { first: events[0], last: events.at(-1), text: tile.textContent, state: tile.dataset.state };
  });
  assert.equal(lagAlert.first.threshold, 5000);
  assert.ok(lagAlert.first.value > 5000, `lag p99 ${lagAlert.first.value} ms`);
  if (lagAlert.last.state === 'raised') {
    assert.equal(lagAlert.state, 'raised');
    assert.match(lagAlert.text, /delivery lag p99 \d+\.\d s > 5\.0 s/);
  }

  // The audit compares each series' sequence numbers across the cut, the reload and the outage.
  assert.equal(await text('#gaps'), '0', 'no telemetry lost');
  assert.equal(await text('#repeats'), '0', 'no telemetry shown twice');
  const audited = await page.evaluate(() => Object.keys(window.dashboard.audit.last).length);
  assert.equal(audited, demo.sensors.devices.reduce((n, d) => n + d.metrics.length, 0));
  await waitEcho();
  await assertOnScreen('after the outage');
  await saveScreenshot();
});
