// Packaging: the npm package as `npm pack` makes it, installed into three kinds of app that a
// dashboard developer writes, each exchanging a message with a real mosquitto in Chromium:
// a plain page with <script type="module"> and an import map, a webpack 5 app, and a Vite 7 app with no plugins
// (built with `vite build`, and served by `vite` in development, where the one line of config the
// README gives keeps Vite's dependency pre-bundling from moving the module away from its .wasm).
// And the codec entry (`wasmqtt/codec`), whose wasm is its own, in a Vite app of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBroker, freePort } from '../../scripts/lib/broker.mjs';
import { launchBrowser } from '../../scripts/lib/browser.mjs';
import { serve, ROOT } from '../../scripts/lib/serve.mjs';
import { pack, appWithPackage as install, VITE } from '../../scripts/lib/minimal-app.mjs';

// The application both apps run: connect, subscribe, publish at QoS 1, show what came back.
const APP = `
import { connect } from 'wasmqtt';
const broker = new URLSearchParams(location.search).get('broker');
const client = await connect(broker, { persistence: 'memory' });
const received = new Promise((resolve) => client.subscribe('packaging/echo', { qos: 1 }, (m) => resolve(m.text)));
await client.publish('packaging/echo', 'hello from ' + document.title, { qos: 1 });
document.body.dataset.received = await received;
await client.end();
`;

let work, broker, browser, tarball;
before(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'wasmqtt-packaging-'));
  // The package exactly as published (pkg/ is built by the test runner before the page tests).
  tarball = pack(work);
  broker = await startBroker();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await broker?.dispose();
  if (work) rmSync(work, { recursive: true, force: true });
});

const appWithPackage = (name) => install(work, tarball.path, name);

async function receivedIn(url) {
  const page = await browser.newPage();
  const errors = [];
  let failed;
  const pageFailed = new Promise((_, reject) => { failed = reject; });
  pageFailed.catch(() => {});
  page.on('pageerror', (error) => { errors.push(error.message); failed(new Error(`page error in ${url}: ${error.message}`)); });
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  try {
    await page.goto(`${url}${url.includes('?') ? '&' : '?'}broker=${encodeURIComponent(broker.wsUrl)}`);
    const arrived = page.waitForSelector('body[data-received]', { state: 'attached', timeout: 20_000 }).catch(() => {
      throw new Error(`no message in ${url}: ${errors.join('; ') || 'no error reported'}`);
    });
    await Promise.race([arrived, pageFailed]);
    return await page.locator('body').getAttribute('data-received');
  } finally {
    await page.close();
  }
}

test('the package ships the two wasm modules, the facade and the types, and nothing else', () => {
  assert.deepEqual([...tarball.files].sort(), [
    'LICENSE-APACHE', 'LICENSE-MIT', 'README.md', 'package.json', 'pkg/errors.js', 'pkg/index.d.ts', 'pkg/index.js', 'pkg/load.js', 'pkg/pack.js', 'pkg/tabs.js',
    'pkg/wasmqtt.d.ts', 'pkg/wasmqtt.js', 'pkg/wasmqtt_bg.wasm', 'pkg/wasmqtt_bg.wasm.d.ts',
    'pkg/codec.d.ts', 'pkg/codec.js', 'pkg/wasmqtt_codec.d.ts', 'pkg/wasmqtt_codec.js', 'pkg/wasmqtt_codec_bg.wasm', 'pkg/wasmqtt_codec_bg.wasm.d.ts',
  ].sort());
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.equal(manifest.exports['.'].types, './pkg/index.d.ts');
  assert.equal(manifest.exports['.'].import, './pkg/index.js');
  assert.equal(manifest.exports['./codec'].types, './pkg/codec.d.ts');
  assert.equal(manifest.exports['./codec'].import, './pkg/codec.js');
  // "MIT OR Apache-2.0": both texts travel with the package.
  assert.equal(manifest.license, 'MIT OR Apache-2.0');
  assert.match(readFileSync(path.join(ROOT, 'LICENSE-MIT'), 'utf8'), /^MIT License/);
  assert.match(readFileSync(path.join(ROOT, 'LICENSE-APACHE'), 'utf8'), /Apache License\s+Version 2\.0/);
});

test('a plain <script type="module"> page with an import map exchanges a message', async () => {
  const dir = appWithPackage('plain');
  writeFileSync(path.join(dir, 'index.html'), `<!doctype html><title>plain</title>
<script type="importmap">{ "imports": { "wasmqtt": "./node_modules/wasmqtt/pkg/index.js" } }</script>
<script type="module">${APP}</script>`);
  const server = await serve({ root: work, dirs: ['plain'] });
  try {
    assert.equal(await receivedIn(`${server.url}/plain/`), 'hello from plain');
  } finally {
    await server.close();
  }
});

function writeViteApp(name, { exclude = true } = {}) {
  const dir = appWithPackage(name);
  if (exclude) writeFileSync(path.join(dir, 'vite.config.js'), "export default { optimizeDeps: { exclude: ['wasmqtt'] } };\n");
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  writeFileSync(path.join(dir, 'index.html'), `<!doctype html><title>${name}</title><script type="module" src="/main.js"></script>`);
  writeFileSync(path.join(dir, 'main.js'), APP);
  return dir;
}

test('a Vite 7 app with no plugins, built with `vite build`, exchanges a message', async () => {
  const dir = writeViteApp('vite-build');
  const outDir = path.join(work, 'vite-dist');
  execFileSync(process.execPath, [VITE, 'build', '--logLevel', 'warn', '--base', '/vite-dist/', '--outDir', outDir], { cwd: dir, stdio: 'pipe' });
  const assets = readdirSync(path.join(outDir, 'assets'));
  assert.equal(assets.filter((f) => f.endsWith('.wasm')).length, 1, `one wasm asset emitted: ${assets}`);
  const server = await serve({ root: work, dirs: ['vite-dist'] });
  try {
    assert.equal(await receivedIn(`${server.url}/vite-dist/`), 'hello from vite-build');
  } finally {
    await server.close();
  }
});

test('each wasm module has only its own entry\'s exports: the client none of the codec\'s, and back', () => {
  const exports = (file) => WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(path.join(ROOT, 'pkg', file)))).map((e) => e.name);
  const client = exports('wasmqtt_bg.wasm');
  const codec = exports('wasmqtt_codec_bg.wasm');
  assert.ok(client.some((name) => name.startsWith('driver_')), `the client has the driver: ${client}`);
  assert.deepEqual(client.filter((name) => /^codec(parser|encoder)_|recordlayout/i.test(name)), []);
  assert.ok(codec.some((name) => name.startsWith('codecparser_')), `the codec has the parser: ${codec}`);
  assert.deepEqual(codec.filter((name) => name.startsWith('driver_')), []);
});

test('a Vite app of the codec alone (`wasmqtt/codec`) ships the codec\'s wasm and round-trips a packet', async () => {
  const dir = appWithPackage('vite-codec');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'vite-codec', private: true, type: 'module' }));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>vite-codec</title><script type="module" src="/main.js"></script>');
  writeFileSync(path.join(dir, 'main.js'), `
import { load, encodePacket, decodePackets } from 'wasmqtt/codec';
await load();
const [packet] = decodePackets(encodePacket({ type: 'publish', topic: 'codec/echo', payload: 'hello from ' + document.title }));
document.body.dataset.received = new TextDecoder().decode(packet.payload);
`);
  const outDir = path.join(work, 'vite-codec-dist');
  execFileSync(process.execPath, [VITE, 'build', '--logLevel', 'warn', '--base', '/vite-codec-dist/', '--outDir', outDir], { cwd: dir, stdio: 'pipe' });
  const wasm = readdirSync(path.join(outDir, 'assets')).filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one wasm asset emitted: ${wasm}`);
  assert.match(wasm[0], /^wasmqtt_codec_bg/);
  const server = await serve({ root: work, dirs: ['vite-codec-dist'] });
  try {
    assert.equal(await receivedIn(`${server.url}/vite-codec-dist/`), 'hello from vite-codec');
  } finally {
    await server.close();
  }
});

test('a webpack 5 app with no loaders or plugins exchanges a message', async () => {
  const dir = appWithPackage('webpack-app');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'webpack-app', private: true, type: 'module' }));
  writeFileSync(path.join(dir, 'main.js'), APP);
  const outDir = path.join(work, 'webpack-dist');
  const cli = path.join(ROOT, 'node_modules', 'webpack-cli', 'bin', 'cli.js');
  execFileSync(process.execPath, [cli, '--mode', 'production', '--entry', './main.js', '--output-path', outDir, '--no-stats'], { cwd: dir, stdio: 'pipe' });
  const emitted = readdirSync(outDir);
  assert.equal(emitted.filter((f) => f.endsWith('.wasm')).length, 1, `one wasm asset emitted: ${emitted}`);
  writeFileSync(path.join(outDir, 'index.html'), '<!doctype html><title>webpack-app</title><script src="main.js"></script>');
  const server = await serve({ root: work, dirs: ['webpack-dist'] });
  try {
    assert.equal(await receivedIn(`${server.url}/webpack-dist/`), 'hello from webpack-app');
  } finally {
    await server.close();
  }
});

/** Runs the Vite dev server in `dir` while `use(url)` runs. */
async function withViteDev(dir, use) {
  const port = await freePort();
  // Vite colours its banner whenever CI is set, even into a pipe: NO_COLOR keeps the port plain.
  const env = { ...process.env, NO_COLOR: '1' };
  const dev = spawn(process.execPath, [VITE, '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  dev.stdout.on('data', (chunk) => { output += chunk; });
  dev.stderr.on('data', (chunk) => { output += chunk; });
  try {
    const deadline = Date.now() + 30_000;
    while (!output.includes(`:${port}`)) {
      if (Date.now() > deadline || dev.exitCode !== null) throw new Error(`vite dev server did not start: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return await use(`http://127.0.0.1:${port}/`);
  } finally {
    dev.kill();
  }
}

test('the same app under the Vite dev server exchanges a message', async () => {
  const dir = writeViteApp('vite-dev');
  assert.equal(await withViteDev(dir, receivedIn), 'hello from vite-dev');
});

test('without that line, the dev server failure says what to do', async () => {
  const dir = writeViteApp('vite-dev-bare', { exclude: false });
  await assert.rejects(withViteDev(dir, receivedIn), /could not load the wasm module .*optimizeDeps: \{ exclude: \["wasmqtt"\] \}/);
});
