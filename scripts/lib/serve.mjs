// A small static file server for the demo page, the page-level tests and the benchmarks.
// Serves the repository's www/, pkg/ (the built wasm package), node_modules/ and bench/ folders,
// plus /config.json with whatever the caller wants the page to know (e.g. the broker URL), and
// POST routes the caller adds (e.g. the demo's fault controls). Every response allows any origin
// (CORS), so that a sandboxed frame (an opaque origin) can load the package too.
import http from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SERVED = ['www', 'pkg', 'node_modules', 'bench', 'tests'];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
  '.d.ts': 'text/plain; charset=utf-8',
};

const ANY_ORIGIN = { 'access-control-allow-origin': '*' };

/**
 * Starts serving on a free loopback port; resolves with { url, close }. `routes` maps a path to
 * an async function (URLSearchParams) => JSON-able result, called on POST. `root` and `dirs`
 * serve other folders (e.g. a packaged app) instead of the repository's.
 */
export function serve({ config = {}, port = 0, routes = {}, root = ROOT, dirs = SERVED } = {}) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const route = routes[url.pathname];
    if (route && req.method === 'POST') {
      try {
        const result = await route(url.searchParams);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result ?? {}));
      } catch (error) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) }));
      }
      return;
    }
    if (url.pathname === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', ...ANY_ORIGIN });
      res.end(JSON.stringify(config));
      return;
    }
    if (url.pathname === '/') {
      res.writeHead(302, { location: '/www/' });
      res.end();
      return;
    }
    let file = path.normalize(path.join(root, decodeURIComponent(url.pathname)));
    const top = path.relative(root, file).split(path.sep)[0];
    if (!file.startsWith(root + path.sep) || !dirs.includes(top)) {
      res.writeHead(404).end('not found');
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = path.join(file, 'index.html');
      statSync(file);
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    const type = TYPES[file.endsWith('.d.ts') ? '.d.ts' : path.extname(file)] || 'application/octet-stream';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', ...ANY_ORIGIN });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address();
      resolve({
        url: `http://127.0.0.1:${bound}`,
        close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}
