// js/pack.js, the facade's side of the packed values (src/api/value.rs is the other): what it
// packs reads back the same, in Node, with no wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack, unpack } from '../../js/pack.js';

test('values read back as they were packed', () => {
  const values = ['a/b', 7, -1.5, true, null, undefined, new Uint8Array([0, 255]), [1, 'x'], { qos: 1, topic: 'é', nested: { ok: false } }];
  assert.deepEqual(unpack(pack(...values).slice()), values);
});

test('a getter that packs while a pack runs leaves the outer pack intact', () => {
  let inner;
  const options = {
    qos: 1,
    // An application's options object whose getter itself calls the client (which packs).
    get retain() {
      inner = pack('inner', { topic: 'x/y', payload: 'p'.repeat(2000) }).slice();
      return true;
    },
    topic: 'after/the/getter',
  };
  const outer = pack('publish', 't', options).slice();
  assert.deepEqual(unpack(outer), ['publish', 't', { qos: 1, retain: true, topic: 'after/the/getter' }]);
  assert.deepEqual(unpack(inner), ['inner', { topic: 'x/y', payload: 'p'.repeat(2000) }]);
  // The shared buffer is still the one used: a later pack is right too.
  assert.deepEqual(unpack(pack('later', 1).slice()), ['later', 1]);
});
