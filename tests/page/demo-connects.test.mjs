// Page level: the demo page served as `npm start` serves it connects to a real mosquitto.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, freePort } from '../../scripts/lib/broker.mjs';
import { serve } from '../../scripts/lib/serve.mjs';
import { launchBrowser } from '../../scripts/lib/browser.mjs';

let broker, browser;
before(async () => {
  broker = await startBroker();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await broker?.dispose();
});

async function statusShownFor(brokerUrl) {
  const server = await serve({ config: { brokerUrl } });
  const page = await browser.newPage();
  try {
    await page.goto(`${server.url}/www/`);
    const status = page.locator('#status:not([data-state="connecting"])');
    await status.waitFor({ timeout: 10_000 });
    return { state: await status.getAttribute('data-state'), text: await status.textContent() };
  } finally {
    await page.close();
    await server.close();
  }
}

test('demo page shows it connected to the embedded broker', async () => {
  const { state, text } = await statusShownFor(broker.wsUrl);
  assert.equal(state, 'connected', text);
  assert.match(broker.log(), /New client connected .* as wasmqtt-probe/);
});

test('demo page shows an error when no broker listens', async () => {
  const { state } = await statusShownFor(`ws://127.0.0.1:${await freePort()}`);
  assert.equal(state, 'error');
});
