// Shared set-up for page-level tests: a real broker (mosquitto unless `start` starts another, e.g.
// one of scripts/lib/brokers.mjs), the static server and Chromium, with a page that has the built
// package loaded as `window.wasmqtt` and `window.config.brokerUrl`.
import net from 'node:net';
import { startBroker } from '../../../scripts/lib/broker.mjs';
import { serve } from '../../../scripts/lib/serve.mjs';
import { launchBrowser, CHROMIUM_ARGS } from '../../../scripts/lib/browser.mjs';

/** `browserArgs`: Chromium switches added to the usual ones. */
export async function startHarness({ broker: brokerOptions = {}, start = startBroker, config = {}, browserArgs = [] } = {}) {
  const broker = await start(brokerOptions);
  const server = await serve({ config: { brokerUrl: broker.wsUrl, ...config } });
  const browser = await launchBrowser({ args: [...CHROMIUM_ARGS, ...browserArgs] });
  const contexts = [];
  return {
    broker,
    server,
    browser,
    /** A fresh page (own browser context: own IndexedDB) with the package loaded. */
    async page({ context } = {}) {
      const ctx = context ?? await browser.newContext();
      if (!context) contexts.push(ctx);
      const page = await ctx.newPage();
      page.on('pageerror', (error) => console.error('page error:', error));
      await page.goto(`${server.url}/tests/page/fixtures/client.html`);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      return page;
    },
    async close() {
      for (const ctx of contexts) await ctx.close().catch(() => {});
      await browser.close().catch(() => {});
      await server.close();
      await broker.dispose();
    },
  };
}

/** A loopback port nothing listens on. */
export async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
