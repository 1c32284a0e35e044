// Apps made from the package exactly as published (`npm pack`), and the bundle the smallest of
// them ships: a Vite app whose whole code is `import { connect } from 'wasmqtt'` and a call,
// built by `vite build` with no config or plugins, each emitted asset measured raw and gzip -9
// (as a server would send it). Used by the packaging test, `npm run bench:size` and the size
// budget check of `npm test` (scripts/check-size.mjs).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT } from './serve.mjs';

export const VITE = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');

/** Packs the package (pkg/ must be built) into `work`; returns the tarball's path and file list. */
export function pack(work, root = ROOT) {
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root });
  const [tarball] = JSON.parse(packed);
  return { path: path.join(work, tarball.filename), files: tarball.files.map((f) => f.path) };
}

/** Makes `work/name` an app folder with the packed package installed under node_modules/wasmqtt. */
export function appWithPackage(work, tarball, name) {
  const dir = path.join(work, name);
  const target = path.join(dir, 'node_modules', 'wasmqtt');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  return dir;
}

const measure = (bytes) => ({ raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });

/**
 * Builds the minimal Vite app from the package at `root` and measures what it ships: every file
 * `vite build` emits under assets/ (the app's JS chunk with the facade and the bindings, and the
 * wasm; the app's own index.html, a few bytes, is left out). Returns { assets, raw, gzip }.
 */
export function minimalAppBundle(root = ROOT) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'wasmqtt-size-'));
  try {
    const dir = appWithPackage(work, pack(work, root).path, 'app');
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>app</title><script type="module" src="/main.js"></script>');
    writeFileSync(path.join(dir, 'main.js'), "import { connect } from 'wasmqtt';\nconnect(location.hash.slice(1)).then((client) => client.end());\n");
    const outDir = path.join(dir, 'dist');
    execFileSync(process.execPath, [VITE, 'build', '--logLevel', 'warn', '--outDir', outDir], { cwd: dir, stdio: 'pipe' });
    const assetsDir = path.join(outDir, 'assets');
    const assets = readdirSync(assetsDir).sort().map((file) => ({ file, ...measure(readFileSync(path.join(assetsDir, file))) }));
    const sum = (key) => assets.reduce((total, a) => total + a[key], 0);
    return { assets, raw: sum('raw'), gzip: sum('gzip') };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
