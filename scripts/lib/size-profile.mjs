// Where a wasm's bytes are: twiggy (`cargo install twiggy`) over a build that keeps function
// names (WASMQTT_WASM_NAMES=dir scripts/build-wasm.sh), each item put in one part of the code by
// the first thing its name shows: the codec, the session core, the browser layer, the codec API,
// formatting, std/alloc, wasm-bindgen glue or static data.
import { execFileSync } from 'node:child_process';

// In order: the first that matches decides. Exported functions are named after their class
// (`driver_new`, `codecparser_push`) and hold the Rust they inlined.
const PARTS = [
  ['static data', /^data segment/],
  ['fmt', /core\[\w+\]::fmt|::fmt::|as core\[\w+\]::fmt/],
  ['codec API (src/web/codec_*)', /wasmqtt\[\w+\]::web::codec_|^codec(parser|encoder)_|^recordlayout/i],
  ['browser layer (src/web)', /wasmqtt\[\w+\]::web::|^driver_|^(probeconnack|topicmatches|seterrorclass)/i],
  ['codec (src/codec)', /wasmqtt\[\w+\]::codec::/],
  ['session core (session, link, store_sync, topic...)', /wasmqtt\[\w+\]::/],
  ['wasm-bindgen glue (js_sys, web_sys, shims)', /wasm_bindgen|js_sys|web_sys|gloo|shim|__wbg|__wbindgen|__externref|externref/],
  ['std/alloc (allocator, collections, panics)', /^<?&?(core|alloc|std|dlmalloc|hashbrown)\[|dlmalloc|^<?&?(core|alloc|std)::/],
];

/** twiggy's items of `wasm` (names kept), as [{ name, bytes }], without the names section. */
export function items(wasm) {
  const csv = execFileSync('twiggy', ['top', '-n', '100000', '--format', 'csv', wasm], { maxBuffer: 64 << 20 }).toString();
  return csv.trim().split('\n').slice(1).map((line) => {
    // Name,ShallowSize,ShallowSizePercent; a name may hold commas (and is quoted then).
    const m = line.match(/^("(?:[^"]|"")*"|[^,]*),(\d+),/);
    return { name: m[1].replace(/^"|"$/g, '').replace(/""/g, '"'), bytes: Number(m[2]) };
  }).filter((item) => !/function names|"name" section|custom section/i.test(item.name) && !/^Σ|and \d+ more/.test(item.name));
}

export function partOf(name) {
  return PARTS.find(([, pattern]) => pattern.test(name))?.[0] ?? 'other (wasm tables, types, imports)';
}

/** Bytes per part and the `top` largest items, of a name-keeping build. */
export function profile(wasm, top = 25) {
  const all = items(wasm);
  const parts = new Map();
  for (const { name, bytes } of all) parts.set(partOf(name), (parts.get(partOf(name)) ?? 0) + bytes);
  const total = all.reduce((sum, item) => sum + item.bytes, 0);
  return {
    total,
    parts: [...parts].map(([part, bytes]) => ({ part, bytes })).sort((a, b) => b.bytes - a.bytes),
    top: [...all].sort((a, b) => b.bytes - a.bytes).slice(0, top).map((item) => ({ ...item, part: partOf(item.name) })),
  };
}

/** Markdown tables of a profile. */
export function profileTables({ total, parts, top }) {
  const pct = (n) => `${((100 * n) / total).toFixed(1)}%`;
  // Crate hashes say nothing to a reader.
  const short = (name) => name.replace(/\[[0-9a-f]{8,16}\]/g, '').replace(/\|/g, '\\|');
  return [
    '| part | bytes | share |', '| --- | ---: | ---: |',
    ...parts.map((p) => `| ${p.part} | ${p.bytes} | ${pct(p.bytes)} |`),
    `| total (code and data, before gzip) | ${total} | 100% |`,
    '', `Largest items (twiggy top):`, '',
    '| bytes | part | item |', '| ---: | --- | --- |',
    ...top.map((t) => `| ${t.bytes} | ${t.part.replace(/ \(.*/, '')} | \`${short(t.name).slice(0, 140)}\` |`),
  ].join('\n');
}
