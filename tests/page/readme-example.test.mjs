// The README's quick-start example, taken from README.md as it is and run in Chromium against a
// real mosquitto (the only change: the broker URL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startHarness } from './lib/harness.mjs';
import { ROOT } from '../../scripts/lib/serve.mjs';

let h;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

test('the README quick-start example runs as written', async () => {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  const block = readme.split('<!-- readme-example')[1].split('```js\n')[1].split('```')[0];
  assert.ok(block.split('\n').filter((l) => l.trim()).length <= 12, 'a short example');
  const code = block.replace('ws://127.0.0.1:9001', h.broker.wsUrl);
  const page = await h.browser.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${h.server.url}/tests/page/fixtures/client.html`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  await page.addScriptTag({ type: 'module', content: `${code}\nwindow.exampleDone = true;` });
  await page.waitForFunction(() => window.exampleDone === true || undefined, null, { timeout: 15_000 }).catch(() => {});
  assert.deepEqual(errors, []);
  assert.ok(logs.includes('sensors/kitchen/t1/temperature 21.5'), `handler output missing: ${logs.join(' | ')}`);
  assert.ok(logs.some((l) => l.startsWith('{connected: true, inflight: 0')), `metrics missing: ${logs.join(' | ')}`);
  await page.close();
});
