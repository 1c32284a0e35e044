// `npm run bench:size`: what a dashboard downloads, raw and gzipped: wasmqtt's wasm and JS
// beside MQTT.js's dist/mqtt.esm.js and Paho's minified file. Writes bench/size-results.md and
// bench/results/size-table.json (for bench/RESULTS.md). `--no-build`: pkg/ is already built.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { ROOT } from './lib/serve.mjs';

if (!process.argv.includes('--no-build')) execFileSync('bash', ['scripts/build-wasm.sh'], { cwd: ROOT, stdio: 'inherit' });
const esbuild = path.join(ROOT, 'node_modules/.bin/esbuild');
// The JS a bundler would ship for wasmqtt: the facade and the bindings, minified.
const wasmqttJs = execFileSync(esbuild, ['pkg/index.js', '--bundle', '--format=esm', '--minify'], { cwd: ROOT });

const version = (name) => JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'))).version;
const rows = [
  ['wasmqtt (wasm)', readFileSync(path.join(ROOT, 'pkg/wasmqtt_bg.wasm'))],
  ['wasmqtt (JS, minified)', wasmqttJs],
];
const total = Buffer.concat(rows.map(([, b]) => b));
const measure = (bytes) => ({ raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
const table = [
  ...rows.map(([name, bytes]) => [name, measure(bytes)]),
  ['wasmqtt total', { raw: total.length, gzip: rows.reduce((sum, [, b]) => sum + measure(b).gzip, 0) }],
  [`MQTT.js ${version('mqtt')} dist/mqtt.esm.js`, measure(readFileSync(path.join(ROOT, 'node_modules/mqtt/dist/mqtt.esm.js')))],
  [`Paho ${version('paho-mqtt')} paho-mqtt-min.js`, measure(readFileSync(path.join(ROOT, 'node_modules/paho-mqtt/paho-mqtt-min.js')))],
];
const kb = (n) => (n / 1024).toFixed(1);
const lines = [
  '| what | raw KiB | gzip KiB |',
  '| --- | ---: | ---: |',
  ...table.map(([name, { raw, gzip }]) => `| ${name} | ${kb(raw)} | ${kb(gzip)} |`),
];
console.log(lines.join('\n'));
writeFileSync(path.join(ROOT, 'bench/size-results.md'), `# Bundle size\n\nMeasured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:size\` (gzip level 9; wasmqtt's wasm after \`wasm-opt -Oz\`).\n\n${lines.join('\n')}\n`);
mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(path.join(ROOT, 'bench/results/size-table.json'), JSON.stringify({ rows: table.map(([name, m]) => ({ name, ...m })) }, null, 2) + '\n');
