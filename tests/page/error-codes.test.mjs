// The `ErrorCode` union of js/index.d.ts against the codes the source can produce, both ways: a
// code added in Rust or JavaScript without its place in the union fails here, and so does a
// union member nothing produces any more. No browser: it reads the source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/lib/serve.mjs';

const read = (path) => readFileSync(join(ROOT, path), 'utf8');

function filesUnder(dir, ext) {
  return readdirSync(join(ROOT, dir), { recursive: true })
    .filter((f) => f.endsWith(ext))
    .map((f) => join(dir, f));
}

/** Every match of `pattern`'s first group in `text`. */
const all = (text, pattern) => [...text.matchAll(pattern)].map((m) => m[1]);

/** The bodies of the Rust functions named `code` that return a `&'static str`. */
function codeFunctionBodies(text) {
  const bodies = [];
  for (const m of text.matchAll(/fn code\(&self\) -> &'static str \{/g)) {
    let depth = 1;
    let i = m.index + m[0].length;
    const start = i;
    while (depth > 0 && i < text.length) {
      if (text[i] === '{') depth += 1;
      if (text[i] === '}') depth -= 1;
      i += 1;
    }
    bodies.push(text.slice(start, i));
  }
  return bodies;
}

/**
 * The names of the MQTT 5 reason codes an error may carry (0x80 and above: a refusal, a failed
 * publish, a protocol error): `reason_code_name` upper-cases `reason::name`'s text.
 */
function reasonCodeNames() {
  const text = read('src/codec/reason.rs');
  const values = new Map(
    [...text.matchAll(/^pub const ([A-Z0-9_]+): u8 = (0x[0-9A-Fa-f]+);/gm)].map((m) => [m[1], Number(m[2])]),
  );
  const body = text.slice(text.indexOf('pub fn name(code: u8)'));
  const names = [...body.matchAll(/^\s+([A-Z0-9_]+) => "([^"]+)",/gm)]
    .filter((m) => values.get(m[1]) >= 0x80)
    .map((m) => m[2].replace(/[^A-Za-z0-9]/g, '_').toUpperCase());
  assert.ok(names.length >= 30, `found the reason-code table (${names.length} names)`);
  return names;
}

/** Every code the Rust and JavaScript source can put in an MqttError's `code`. */
function producedCodes() {
  const found = new Map(); // code -> where it was seen
  const add = (codes, where) => codes.forEach((code) => found.set(code, found.get(code) ?? where));
  for (const file of filesUnder('src', '.rs')) {
    // The unit tests at the end of a file make errors of their own to check the conversion.
    const text = read(file).split('#[cfg(test)]')[0];
    add(all(text, /ClientError::new\(\s*"([A-Z0-9_]+)"/g), file);
    add(all(text, /mqtt_error\(\s*"([A-Z0-9_]+)"/g), file);
    add(all(text, /\berror\(\s*\w+,\s*"([A-Z0-9_]+)"/g), file);
    add(all(text, /\bcode: "([A-Z0-9_]+)"/g), file);
    for (const body of codeFunctionBodies(text)) add(all(body, /"([A-Z0-9_]+)"/g), file);
  }
  for (const file of filesUnder('js', '.js')) {
    const text = read(file);
    add(all(text, /mqttError\(\s*'([A-Z0-9_]+)'/g), file);
    add(all(text, /\bcode \?\? '([A-Z0-9_]+)'/g), file);
  }
  add(reasonCodeNames(), 'src/codec/reason.rs');
  return found;
}

/** The members of `export type ErrorCode = ...;` in js/index.d.ts. */
function unionCodes() {
  const text = read('js/index.d.ts');
  const declaration = text.match(/export type ErrorCode =([^;]+);/);
  assert.ok(declaration, 'js/index.d.ts declares `export type ErrorCode = ...;`');
  const body = declaration[1].replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  return all(body, /'([A-Z0-9_]+)'/g);
}

test('the ErrorCode union lists exactly the codes the Rust and JavaScript source produce', () => {
  const produced = producedCodes();
  const union = unionCodes();
  // The extraction itself must see each kind of source, or a pattern went stale.
  for (const code of ['CONNECTION_FAILED', 'QUEUE_FULL', 'STORE_BLOCKED', 'NOT_LOADED', 'TABS_UNSUPPORTED', 'LEADER_CHANGED', 'NOT_AUTHORIZED', 'REQUEST_TIMEOUT']) {
    assert.ok(produced.has(code), `the source scan finds ${code}`);
  }
  const missing = [...produced.keys()].filter((code) => !union.includes(code)).map((code) => `${code} (${produced.get(code)})`);
  const stale = union.filter((code) => !produced.has(code));
  assert.deepEqual(missing, [], 'codes the source produces but the ErrorCode union lacks');
  assert.deepEqual(stale, [], 'ErrorCode members that nothing in the source produces');
  assert.equal(new Set(union).size, union.length, 'no code listed twice');
});

test('MqttError.code is typed as the ErrorCode union', () => {
  const text = read('js/index.d.ts');
  const cls = text.slice(text.indexOf('export class MqttError'));
  assert.match(cls.slice(0, cls.indexOf('\n}')), /^\s+code: ErrorCode;$/m);
});
