// `npm run bench:size`: what a dashboard downloads, raw and gzip -9: every asset a minimal Vite app
// ships for `import { connect } from 'wasmqtt'` (built from the packed package:
// scripts/lib/minimal-app.mjs), beside MQTT.js's dist/mqtt.esm.js and Paho's minified file, and
// the codec entry's wasm (`wasmqtt/codec`) on its own line. With twiggy installed, also where the
// client wasm's bytes are (a build that keeps function names: scripts/lib/size-profile.mjs).
// Writes bench/size-results.md and bench/results/size-table.json (for bench/RESULTS.md).
// `--no-build`: pkg/ is already built (the profile then reads bench/.build/names, which
// scripts/bench.mjs's build for the size part writes).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { ROOT } from './lib/serve.mjs';
import { minimalAppBundle } from './lib/minimal-app.mjs';
import { profile, profileTables } from './lib/size-profile.mjs';
import { BUDGET_KIB } from './check-size.mjs';

const NAMES = path.join(ROOT, 'bench/.build/names'); // also in scripts/bench.mjs
if (!process.argv.includes('--no-build')) {
  execFileSync('bash', ['scripts/build-wasm.sh'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, WASMQTT_WASM_NAMES: NAMES } });
}

const version = (name) => JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'))).version;
const measure = (bytes) => ({ raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
const app = minimalAppBundle();
const kind = (file) => (file.endsWith('.wasm') ? 'wasm' : 'JS');
const table = [
  ...app.assets.map((a) => [`wasmqtt, minimal Vite app: ${kind(a.file)} (${a.file.replace(/-[\w-]{8}\./, '.')})`, a]),
  ['wasmqtt total', { raw: app.raw, gzip: app.gzip }],
  [`MQTT.js ${version('mqtt')} dist/mqtt.esm.js`, measure(readFileSync(path.join(ROOT, 'node_modules/mqtt/dist/mqtt.esm.js')))],
  [`Paho ${version('paho-mqtt')} paho-mqtt-min.js`, measure(readFileSync(path.join(ROOT, 'node_modules/paho-mqtt/paho-mqtt-min.js')))],
  ['wasmqtt/codec entry: wasm (not in the client bundle)', measure(readFileSync(path.join(ROOT, 'pkg/wasmqtt_codec_bg.wasm')))],
];
const kb = (n) => (n / 1024).toFixed(1);
const lines = [
  '| what | raw KiB | gzip KiB |',
  '| --- | ---: | ---: |',
  ...table.map(([name, { raw, gzip }]) => `| ${name} | ${kb(raw)} | ${kb(gzip)} |`),
];
console.log(lines.join('\n'));

let profileSection = '';
const named = path.join(NAMES, 'wasmqtt_bg.wasm');
let twiggy = true;
try { execFileSync('twiggy', ['--version'], { stdio: 'ignore' }); } catch { twiggy = false; }
if (twiggy && existsSync(named)) {
  profileSection = `\n## Where the client wasm's bytes are\n\ntwiggy over the same build with function names kept (\`wasm-opt -g\`), before gzip.\n\n${profileTables(profile(named))}\n`;
  console.log(profileSection);
} else {
  console.log('(no size profile: install twiggy, `cargo install twiggy`, and run without --no-build)');
}
writeFileSync(path.join(ROOT, 'bench/size-results.md'), `# Bundle size

Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:size\`: the assets \`vite build\` emits for a minimal
app, \`import { connect } from 'wasmqtt'\` and one call, from the packed package (gzip level 9,
each asset apart, as a server sends them; wasmqtt's wasm after \`wasm-opt -Oz\`). \`npm test\`
fails above ${BUDGET_KIB} KiB gzipped (scripts/check-size.mjs; bench/SIZE.md says why that figure).

${lines.join('\n')}
${profileSection}`);
mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(path.join(ROOT, 'bench/results/size-table.json'), JSON.stringify({ rows: table.map(([name, m]) => ({ name, raw: m.raw, gzip: m.gzip })) }, null, 2) + '\n');
