// The low-level codec API (`wasmqtt/codec`: encodePacket, decodePackets, PacketParser) in a real
// page, through the built package: round trips of every packet type, byte-exact fixtures worked
// out from the MQTT 3.1.1 and 5.0 specifications, streams split anywhere, and typed errors for
// bad input.
// Normative statement ids are MQTT 5.0's unless marked 3.1.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { serve, ROOT } from '../../scripts/lib/serve.mjs';
import { launchBrowser } from '../../scripts/lib/browser.mjs';

let server;
let browser;
let page;

// Uint8Arrays cross page.evaluate as { $bytes: [...] }; strings stand for their UTF-8 bytes.
const bytes = (value) => ({ $bytes: typeof value === 'string' ? [...Buffer.from(value)] : value });

before(async () => {
  server = await serve();
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(`${server.url}/tests/page/fixtures/codec.html`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  await page.evaluate(() => {
    window.revive = (value) => JSON.parse(JSON.stringify(value), (key, v) => (v && Array.isArray(v.$bytes) ? new Uint8Array(v.$bytes) : v));
    window.plain = (value) => JSON.parse(JSON.stringify(value, (key, v) => (v instanceof Uint8Array ? { $bytes: [...v] } : v)));
    window.caught = (f) => {
      try {
        f();
        return null;
      } catch (e) {
        return { name: e.name, code: e.code, reasonCode: e.reasonCode, message: e.message, packets: e.packets && window.plain(e.packets) };
      }
    };
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const user = [['region', 'eu'], ['region', 'us']];

/** Every packet type with every field given, as decoding returns it. */
function everyPacket(version) {
  const v5 = version === 5;
  const props = (p) => (v5 ? { properties: p } : {});
  return [
    {
      type: 'connect', protocolVersion: version, clientId: 'dash-1', clean: false, keepalive: 30,
      will: { topic: 'dash/status', payload: bytes('offline'), qos: 1, retain: true, ...props({ willDelayInterval: 5, contentType: 'text/plain' }) },
      username: 'user', password: bytes([0, 1, 2, 255]),
      ...props({ sessionExpiryInterval: 3600, receiveMaximum: 20, userProperties: user }),
    },
    { type: 'connack', sessionPresent: true, reasonCode: 0, ...props({ assignedClientIdentifier: 'auto-1', topicAliasMaximum: 10, maximumQos: 1 }) },
    { type: 'connack', sessionPresent: false, reasonCode: v5 ? 0x87 : 5 },
    { type: 'publish', topic: 'a/b', payload: bytes('hello'), qos: 0, retain: true, dup: false },
    {
      type: 'publish', topic: 'plant/1/températur', payload: bytes([1, 2, 3]), qos: 1, retain: false, dup: true, packetId: 1,
      ...props({ payloadFormatIndicator: 0, messageExpiryInterval: 60, responseTopic: 'r/1', correlationData: bytes([9, 8]), subscriptionIdentifier: [1, 300], userProperties: user }),
    },
    { type: 'publish', topic: 'q/2', payload: bytes([]), qos: 2, retain: false, dup: false, packetId: 65535 },
    { type: 'puback', packetId: 7, reasonCode: v5 ? 0x10 : 0 },
    { type: 'pubrec', packetId: 8, reasonCode: 0, ...props({ reasonString: 'ok' }) },
    { type: 'pubrel', packetId: 9, reasonCode: v5 ? 0x92 : 0 },
    { type: 'pubcomp', packetId: 10, reasonCode: 0 },
    {
      type: 'subscribe', packetId: 11,
      subscriptions: [
        { filter: 'a/#', qos: 2, noLocal: v5, retainAsPublished: v5, retainHandling: v5 ? 2 : 0 },
        { filter: '+/b', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: v5 ? 1 : 0 },
      ],
      ...props({ subscriptionIdentifier: 42, userProperties: user }),
    },
    { type: 'suback', packetId: 11, reasonCodes: [2, 0, 0x80], ...props({ reasonString: 'partly' }) },
    { type: 'unsubscribe', packetId: 12, filters: ['a/#', '+/b'], ...props({ userProperties: user }) },
    { type: 'unsuback', packetId: 12, reasonCodes: v5 ? [0, 0x11] : [] },
    { type: 'pingreq' },
    { type: 'pingresp' },
    { type: 'disconnect', reasonCode: v5 ? 0x8e : 0, ...props({ reasonString: 'taken over', serverReference: 'other' }) },
    ...(v5 ? [{ type: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-1', authenticationData: bytes([1, 2]) } }] : []),
  ];
}

for (const version of [4, 5]) {
  test(`MQTT ${version === 5 ? '5.0' : '3.1.1'}: every packet type survives encodePacket then decodePackets`, async () => {
    const packets = everyPacket(version);
    const result = await page.evaluate(({ packets, version }) => {
      const { encodePacket, decodePackets } = window.codec;
      const one = revive(packets).map((p) => plain(decodePackets(encodePacket(p, version), version)));
      // All of them in one buffer, as a connection would carry them.
      const encoded = revive(packets).map((p) => encodePacket(p, version));
      const all = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
      encoded.reduce((at, e) => (all.set(e, at), at + e.length), 0);
      return { one, all: plain(decodePackets(all, version)) };
    }, { packets, version });
    assert.equal(result.one.length, packets.length);
    packets.forEach((packet, i) => assert.deepEqual(result.one[i], [packet], packet.type));
    assert.deepEqual(result.all, packets);
  });
}

test('MQTT 3.1 (level 3): CONNECT names the protocol MQIsdp and round trips', async () => {
  const result = await page.evaluate(() => {
    const { encodePacket, decodePackets } = window.codec;
    const bytes = encodePacket({ type: 'connect', clientId: 'old', keepalive: 10 }, 3);
    return { bytes: [...bytes], packets: plain(decodePackets(bytes, 3)) };
  });
  // MQTT 3.1: protocol name "MQIsdp", level 3.
  assert.deepEqual(result.bytes.slice(0, 11), [0x10, 17, 0, 6, ...Buffer.from('MQIsdp'), 3]);
  assert.deepEqual(result.packets, [{ type: 'connect', protocolVersion: 3, clientId: 'old', clean: true, keepalive: 10 }]);
});

test('packets to encode may leave out what has a default', async () => {
  const result = await page.evaluate(() => {
    const { encodePacket, decodePackets } = window.codec;
    return [
      { type: 'publish', topic: 't' },
      { type: 'puback', packetId: 3 },
      { type: 'subscribe', packetId: 4, subscriptions: [{ filter: 'x/+' }] },
      { type: 'disconnect' },
      { type: 'connect' },
    ].map((p) => plain(decodePackets(encodePacket(p))));
  });
  assert.deepEqual(result, [
    [{ type: 'publish', topic: 't', payload: bytes([]), qos: 0, retain: false, dup: false }],
    [{ type: 'puback', packetId: 3, reasonCode: 0 }],
    [{ type: 'subscribe', packetId: 4, subscriptions: [{ filter: 'x/+', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }] }],
    [{ type: 'disconnect', reasonCode: 0 }],
    [{ type: 'connect', protocolVersion: 5, clientId: '', clean: true, keepalive: 60 }],
  ]);
});

// Worked out by hand from the specifications' packet layouts: [version, packet, bytes].
const FIXTURES = [
  // 3.1.1 section 3.1: "MQTT", level 4, clean session, keep alive 60, client id "a".
  [4, { type: 'connect', protocolVersion: 4, clientId: 'a', clean: true, keepalive: 60 },
    [0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x61]],
  // 3.1.1 section 3.2: session present, return code 0 (accepted).
  [4, { type: 'connack', sessionPresent: true, reasonCode: 0 }, [0x20, 0x02, 0x01, 0x00]],
  // 3.1.1 section 3.3: QoS 1 (flags 0010), topic "a/b", packet id 10, payload "hi".
  [4, { type: 'publish', topic: 'a/b', payload: bytes('hi'), qos: 1, retain: false, dup: false, packetId: 10 },
    [0x32, 0x09, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x00, 0x0a, 0x68, 0x69]],
  // 3.1.1 section 3.8: flags 0010 (MQTT-3.8.1-1), packet id 1, "a/#" at QoS 1.
  [4, { type: 'subscribe', packetId: 1, subscriptions: [{ filter: 'a/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] },
    [0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 0x61, 0x2f, 0x23, 0x01]],
  // 3.1.1 section 3.11: UNSUBACK is the packet id alone.
  [4, { type: 'unsuback', packetId: 5, reasonCodes: [] }, [0xb0, 0x02, 0x00, 0x05]],
  // Sections 3.12, 3.13: PINGREQ and PINGRESP are a fixed header with remaining length 0.
  [4, { type: 'pingreq' }, [0xc0, 0x00]],
  [5, { type: 'pingresp' }, [0xd0, 0x00]],
  // 5.0 section 3.3: QoS 0, topic "t", property length 0, payload "x".
  [5, { type: 'publish', topic: 't', payload: bytes('x'), qos: 0, retain: false, dup: false },
    [0x30, 0x05, 0x00, 0x01, 0x74, 0x00, 0x78]],
  // 5.0 section 3.3.2.3.3: Message Expiry Interval (0x02), four-byte integer 60.
  [5, { type: 'publish', topic: 't', payload: bytes('x'), qos: 0, retain: false, dup: false, properties: { messageExpiryInterval: 60 } },
    [0x30, 0x0a, 0x00, 0x01, 0x74, 0x05, 0x02, 0x00, 0x00, 0x00, 0x3c, 0x78]],
  // 5.0 section 3.4.2.1: reason code 0x10 (no matching subscribers) without properties.
  [5, { type: 'puback', packetId: 1, reasonCode: 0x10 }, [0x40, 0x03, 0x00, 0x01, 0x10]],
  // 5.0 section 3.8.3.1: options byte 0x2E = QoS 2 | No Local | Retain As Published | Retain Handling 2.
  [5, { type: 'subscribe', packetId: 1, subscriptions: [{ filter: 'a/#', qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 }] },
    [0x82, 0x09, 0x00, 0x01, 0x00, 0x00, 0x03, 0x61, 0x2f, 0x23, 0x2e]],
  // 5.0 section 3.14.2.1: reason code 0x00 without properties is remaining length 0.
  [5, { type: 'disconnect', reasonCode: 0 }, [0xe0, 0x00]],
  [5, { type: 'disconnect', reasonCode: 0x8e }, [0xe0, 0x01, 0x8e]],
];

test('byte-exact fixtures from the specifications, both ways', async () => {
  const result = await page.evaluate((fixtures) => {
    const { encodePacket, decodePackets } = window.codec;
    return revive(fixtures).map(([version, packet, wire]) => ({
      encoded: [...encodePacket(packet, version)],
      decoded: plain(decodePackets(new Uint8Array(wire), version)),
    }));
  }, FIXTURES);
  FIXTURES.forEach(([, packet, wire], i) => {
    assert.deepEqual(result[i].encoded, wire, `encode ${packet.type} #${i}`);
    assert.deepEqual(result[i].decoded, [packet], `decode ${packet.type} #${i}`);
  });
});

test('a bridge CONNECT (level 0x84 or 0x83, as mosquitto bridges send) round-trips as bridge: true; 5.0 has no bridge level', async () => {
  // Not in the specifications: the high bit of the protocol level marks a broker bridging to
  // another. 0x85 is defined nowhere and refused like any unknown level (MQTT-3.1.2-2).
  const wire311 = [0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x84, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x62];
  const wire31 = [0x10, 0x0f, 0x00, 0x06, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 0x83, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x62];
  const result = await page.evaluate(([wire311, wire31]) => {
    const { encodePacket, decodePackets } = window.codec;
    const decoded311 = decodePackets(new Uint8Array(wire311), 4);
    const decoded31 = decodePackets(new Uint8Array(wire31), 3);
    const v5 = [...wire311.slice(0, 8), 0x85, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x01, 0x62];
    v5[1] += 1; // the 5.0 CONNECT has a property length
    return {
      decoded311: plain(decoded311),
      decoded31: plain(decoded31),
      again311: [...encodePacket(decoded311[0], 4)],
      again31: [...encodePacket(decoded31[0], 3)],
      plain: plain(decodePackets(encodePacket({ type: 'connect', protocolVersion: 4, clientId: 'b', bridge: false }, 4), 4)),
      encode5: caught(() => encodePacket({ type: 'connect', protocolVersion: 5, clientId: 'b', bridge: true })),
      decode85: caught(() => decodePackets(new Uint8Array(v5), 5)),
      notBoolean: caught(() => encodePacket({ type: 'connect', protocolVersion: 4, bridge: 1 }, 4)),
    };
  }, [wire311, wire31]);
  assert.deepEqual(result.decoded311, [{ type: 'connect', protocolVersion: 4, bridge: true, clientId: 'b', clean: true, keepalive: 60 }]);
  assert.deepEqual(result.decoded31, [{ type: 'connect', protocolVersion: 3, bridge: true, clientId: 'b', clean: true, keepalive: 60 }]);
  assert.deepEqual(result.again311, wire311);
  assert.deepEqual(result.again31, wire31);
  assert.equal(result.plain[0].bridge, undefined, 'a CONNECT without the bridge bit has no bridge field');
  assert.equal(result.encode5.code, 'INVALID_ARGUMENT');
  assert.equal(result.encode5.reasonCode, 0x84);
  assert.match(result.encode5.message, /protocol level 0x85/);
  assert.equal(result.decode85.code, 'UNSUPPORTED_PROTOCOL_VERSION');
  assert.equal(result.decode85.reasonCode, 0x84);
  assert.match(result.notBoolean.message, /connect\.bridge must be a boolean/);
});

test('a reason code outside its packet type\'s table is refused both ways (e.g. MQTT-3.4.2-1)', async () => {
  const result = await page.evaluate(() => {
    const { encodePacket, decodePackets } = window.codec;
    return {
      // 0x11 (no subscription existed) belongs to UNSUBACK.
      encode: caught(() => encodePacket({ type: 'puback', packetId: 1, reasonCode: 0x11 }, 5)),
      decode: caught(() => decodePackets(new Uint8Array([0x40, 0x03, 0x00, 0x01, 0x11]), 5)),
      // 3.1.1 CONNACK return codes 6-255 are reserved.
      connack311: caught(() => decodePackets(new Uint8Array([0x20, 0x02, 0x00, 0x06]), 4)),
      allowed: plain(decodePackets(new Uint8Array([0xb0, 0x04, 0x00, 0x01, 0x00, 0x11]), 5)),
    };
  });
  assert.equal(result.encode.code, 'INVALID_ARGUMENT');
  assert.equal(result.encode.reasonCode, 0x82);
  assert.match(result.encode.message, /PubAck cannot carry code 0x11/);
  for (const what of ['decode', 'connack311']) {
    assert.equal(result[what].code, 'PROTOCOL_ERROR', what);
    assert.equal(result[what].reasonCode, 0x82, what);
  }
  assert.deepEqual(result.allowed, [{ type: 'unsuback', packetId: 1, reasonCodes: [0x11] }]);
});

test('a payload given as a string is its UTF-8', async () => {
  const long = `${'x'.repeat(70)}é`;
  const result = await page.evaluate((long) => {
    const { encodePacket } = window.codec;
    return [
      [...encodePacket({ type: 'publish', topic: 'a/b', payload: 'hé' }, 4)],
      [...encodePacket({ type: 'publish', topic: 'a/b', payload: long }, 4)],
    ];
  }, long);
  assert.deepEqual(result[0], [0x30, 0x08, 0x00, 0x03, 0x61, 0x2f, 0x62, 0x68, 0xc3, 0xa9]);
  assert.deepEqual(result[1], [0x30, 2 + 3 + 72, 0x00, 0x03, 0x61, 0x2f, 0x62, ...Buffer.from(long)]);
});

test('PacketParser: a stream split at every byte boundary, or fed byte by byte, gives the same packets (MQTT-6.0.0-2)', async () => {
  const packets = everyPacket(5);
  const result = await page.evaluate((packets) => {
    const { encodePacket, PacketParser } = window.codec;
    const encoded = revive(packets).map((p) => encodePacket(p));
    const stream = new Uint8Array(encoded.reduce((n, e) => n + e.length, 0));
    encoded.reduce((at, e) => (stream.set(e, at), at + e.length), 0);
    const whole = new PacketParser(5).push(stream);
    const expected = JSON.stringify(plain(whole));
    // Where each packet ends in the stream.
    const ends = encoded.map((e, i) => encoded.slice(0, i + 1).reduce((n, x) => n + x.length, 0));
    const failures = [];
    for (let cut = 0; cut <= stream.length; cut++) {
      const parser = new PacketParser(5);
      // Copies, so that nothing can lean on the pieces being views of one buffer.
      const first = parser.push(stream.slice(0, cut));
      const complete = ends.filter((end) => end <= cut);
      if (first.length !== complete.length || parser.buffered !== cut - (complete.at(-1) ?? 0)) failures.push(`first push at ${cut}`);
      const got = [...first, ...parser.push(stream.slice(cut))];
      if (JSON.stringify(plain(got)) !== expected || parser.buffered !== 0) failures.push(cut);
      parser.free();
    }
    const parser = new PacketParser(5);
    const byByte = [];
    let empty = 0;
    for (let i = 0; i < stream.length; i++) {
      const got = parser.push(stream.subarray(i, i + 1));
      if (got.length === 0) empty++;
      byByte.push(...got);
    }
    return { count: whole.length, length: stream.length, failures, byByte: JSON.stringify(plain(byByte)) === expected, empty, wholePackets: plain(whole) };
  }, packets);
  assert.equal(result.count, packets.length);
  assert.deepEqual(result.wholePackets, packets);
  assert.deepEqual(result.failures, []);
  assert.ok(result.byByte, 'byte by byte');
  // "Need more bytes" is no error: most single bytes complete nothing.
  assert.equal(result.empty, result.length - packets.length);
});

test('decoded payloads are views of the pushed bytes or copies, never of reused wasm memory', async () => {
  const result = await page.evaluate(() => {
    const { encodePacket, PacketParser } = window.codec;
    const a = encodePacket({ type: 'publish', topic: 'a', payload: new Uint8Array([1, 2, 3]) });
    const b = encodePacket({ type: 'publish', topic: 'b', payload: new Uint8Array([4, 5, 6]) });
    const parser = new PacketParser();
    // b is split inside its payload, which spans two pushes, so it is copied; a's lies in the
    // first push.
    const first = parser.push(new Uint8Array([...a, ...b.subarray(0, b.length - 2)]));
    const second = parser.push(b.subarray(b.length - 2));
    // Lots of traffic afterwards must not change what was returned: wasm memory is reused, and
    // grows (which detaches every view of it).
    for (let i = 0; i < 2000; i++) parser.push(encodePacket({ type: 'publish', topic: 'c', payload: new Uint8Array(100).fill(9) }));
    parser.push(encodePacket({ type: 'publish', topic: 'big', payload: new Uint8Array(16 << 20).fill(9) }));
    return { a: [...first[0].payload], b: [...second[0].payload], plain: first[0].payload.constructor === Uint8Array && second[0].payload.constructor === Uint8Array };
  });
  assert.deepEqual(result, { a: [1, 2, 3], b: [4, 5, 6], plain: true });
});

test('malformed input throws an MqttError with the MQTT 5 reason code; nothing decoded before it is lost', async () => {
  const errors = await page.evaluate(() => {
    const { decodePackets, PacketParser, encodePacket } = window.codec;
    const out = {};
    const d = (wire, version = 5) => caught(() => decodePackets(new Uint8Array(wire), version));
    out.reservedType = d([0x00, 0x00]); // MQTT-2.1.3-1 (type 0 is reserved)
    out.authIn311 = d([0xf0, 0x00], 4); // AUTH does not exist before 5.0
    out.qos3 = d([0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01]); // MQTT-3.3.1-4
    out.badFlags = d([0x60, 0x02, 0x00, 0x01]); // PUBREL flags must be 0010: MQTT-3.6.1-1
    out.longVarInt = d([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]); // section 1.5.5: at most 4 bytes
    out.wildcardTopic = d([0x30, 0x05, 0x00, 0x01, 0x23, 0x00, 0x78]); // MQTT-3.3.2-2
    out.zeroPacketId = d([0x40, 0x02, 0x00, 0x00]); // MQTT-2.2.1-3: a Protocol Error
    out.cutShort = d([0x30, 0x05, 0x00, 0x01]); // the input ends inside a packet
    // Section 3.1.2.11.4: a packet over the Maximum Packet Size is refused with 0x95, from its
    // fixed header alone.
    const small = new PacketParser(5, 16);
    const ping = encodePacket({ type: 'pingresp' });
    const big = encodePacket({ type: 'publish', topic: 'a', payload: new Uint8Array(20) });
    out.tooLarge = caught(() => small.push(new Uint8Array([...ping, ...big.subarray(0, 2)])));
    out.tooLargeAgain = caught(() => small.push(ping));
    // Good packets, then garbage: the good ones ride on the error.
    out.afterGood = caught(() => new PacketParser(5).push(new Uint8Array([...ping, ...ping, 0x00, 0x00])));
    return out;
  });
  const expect = {
    reservedType: 0x81, authIn311: 0x81, qos3: 0x81, badFlags: 0x81, longVarInt: 0x81,
    wildcardTopic: 0x81, zeroPacketId: 0x82, cutShort: 0x81, tooLarge: 0x95, tooLargeAgain: 0x95, afterGood: 0x81,
  };
  for (const [what, reasonCode] of Object.entries(expect)) {
    const error = errors[what];
    assert.ok(error, `${what} was accepted`);
    assert.equal(error.name, 'MqttError', what);
    assert.equal(error.reasonCode, reasonCode, `${what}: ${error.message}`);
    assert.equal(error.code, { 0x81: 'MALFORMED_PACKET', 0x82: 'PROTOCOL_ERROR', 0x95: 'PACKET_TOO_LARGE' }[reasonCode], what);
  }
  assert.match(errors.qos3.message, /QoS 3/);
  assert.match(errors.tooLarge.message, /exceeds the maximum packet size 16/);
  assert.deepEqual(errors.tooLarge.packets, [{ type: 'pingresp' }]);
  assert.deepEqual(errors.tooLargeAgain.packets, [], 'a failed parser stays failed');
  assert.deepEqual(errors.afterGood.packets, [{ type: 'pingresp' }, { type: 'pingresp' }]);
});

test('bad packet objects are refused with a typed error naming the field', async () => {
  const errors = await page.evaluate(() => {
    const { encodePacket, PacketParser, decodePackets } = window.codec;
    const e = (packet, version) => caught(() => encodePacket(packet, version));
    return {
      qos3: e({ type: 'publish', topic: 'a', qos: 3 }),
      wildcard: e({ type: 'publish', topic: 'a/+/b' }), // MQTT-3.3.2-2
      missingTopic: e({ type: 'publish', payload: 'x' }),
      missingPacketId: e({ type: 'publish', topic: 'a', qos: 1 }), // MQTT-2.2.1-2
      zeroPacketId: e({ type: 'puback', packetId: 0 }), // MQTT-2.2.1-3
      typo: e({ type: 'publish', topic: 'a', packetID: 3 }),
      unknownType: e({ type: 'publsh', topic: 'a' }),
      notObject: e('publish'),
      payloadNumber: e({ type: 'publish', topic: 'a', payload: 42 }),
      badFilter: e({ type: 'subscribe', packetId: 1, subscriptions: [{ filter: 'a/#/b' }] }), // MQTT-4.7.1-1
      noFilters: e({ type: 'unsubscribe', packetId: 1, filters: [] }), // MQTT-3.10.3-2
      propertyNotAllowed: e({ type: 'puback', packetId: 1, properties: { topicAlias: 3 } }),
      unknownProperty: e({ type: 'publish', topic: 'a', properties: { messageExpiry: 5 } }),
      authIn311: e({ type: 'auth' }, 4),
      version6: e({ type: 'pingreq' }, 6),
      parserVersion: caught(() => new PacketParser(2)),
      pushNumber: caught(() => new PacketParser().push(5)),
      decodeString: caught(() => decodePackets('c000')),
    };
  });
  for (const [what, error] of Object.entries(errors)) {
    assert.ok(error, `${what} was accepted`);
    assert.equal(error.name, 'MqttError', what);
    assert.equal(error.code, 'INVALID_ARGUMENT', `${what}: ${error.message}`);
  }
  assert.match(errors.qos3.message, /publish\.qos must be a whole number from 0 to 2/);
  assert.match(errors.wildcard.message, /wildcard/);
  assert.equal(errors.wildcard.reasonCode, 0x81);
  assert.match(errors.missingTopic.message, /publish\.topic is required/);
  assert.equal(errors.missingPacketId.reasonCode, 0x82);
  assert.equal(errors.zeroPacketId.reasonCode, 0x82);
  assert.match(errors.typo.message, /unknown field publish\.packetID/);
  assert.match(errors.unknownType.message, /packet\.type must be one of connect, connack, publish/);
  assert.match(errors.payloadNumber.message, /publish\.payload must be a Uint8Array or a string/);
  assert.match(errors.badFilter.message, /invalid topic filter/);
  assert.match(errors.noFilters.message, /without a topic filter/);
  assert.match(errors.propertyNotAllowed.message, /not allowed in PubAck/);
  assert.match(errors.unknownProperty.message, /unknown option packet\.properties\.messageExpiry/);
  assert.match(errors.authIn311.message, /does not exist in this protocol version/);
  assert.match(errors.version6.message, /version must be 3/);
  assert.equal(errors.qos3.reasonCode, undefined, 'a JavaScript type error carries no reason code');
});

test('a refused packet leaves the encoder as it was: the next packet encodes', async () => {
  const result = await page.evaluate(() => {
    const { encodePacket } = window.codec;
    const before = [...encodePacket({ type: 'publish', topic: 'ok', payload: 'x' })];
    caught(() => encodePacket({ type: 'subscribe', packetId: 1, subscriptions: [{ filter: 'a' }, { filter: 'b', qos: 7 }] }));
    caught(() => encodePacket({ type: 'publish', topic: 'bad/#', payload: new Uint8Array(100000) }));
    return { before, after: [...encodePacket({ type: 'publish', topic: 'ok', payload: 'x' })] };
  });
  assert.deepEqual(result.after, result.before);
});

test("the README's codec example runs as written", async () => {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  const code = readme.split('<!-- codec-example')[1].split('```js\n')[1].split('```')[0];
  const example = await browser.newPage();
  const logs = [];
  example.on('console', (m) => logs.push(m.text()));
  const errors = [];
  example.on('pageerror', (e) => errors.push(e.message));
  await example.goto(`${server.url}/tests/page/fixtures/codec.html`);
  await example.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  await example.addScriptTag({ type: 'module', content: `${code}\nwindow.exampleDone = true;` });
  await example.waitForFunction(() => window.exampleDone === true || undefined, null, { timeout: 15_000 }).catch(() => {});
  assert.deepEqual(errors, []);
  assert.deepEqual(logs, ['publish sensors/t1 7']);
  await example.close();
});

test('the codec is an entry of its own: not in the client module, loaded by its own load()', async () => {
  const fresh = await browser.newPage();
  try {
    await fresh.goto(`${server.url}/tests/page/fixtures/codec.html`);
    await fresh.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    const result = await fresh.evaluate(async () => {
      // A second copy of the module, not loaded yet: its functions say what to do first.
      const codec = await import(`/pkg/codec.js?fresh=${Date.now()}`);
      let notLoaded;
      try {
        codec.encodePacket({ type: 'pingreq' });
      } catch (e) {
        notLoaded = { code: e.code, message: e.message, is: e instanceof codec.MqttError };
      }
      await codec.load();
      const encoded = [...codec.encodePacket({ type: 'pingreq' })];
      const client = await import('/pkg/index.js');
      return {
        notLoaded,
        encoded,
        clientExports: ['encodePacket', 'decodePackets', 'PacketParser'].filter((name) => name in client),
        // One MqttError class for both entries (js/errors.js).
        sameErrorClass: client.MqttError === window.codec.MqttError,
      };
    });
    assert.deepEqual(result.notLoaded && { code: result.notLoaded.code, is: result.notLoaded.is }, { code: 'NOT_LOADED', is: true });
    assert.match(result.notLoaded.message, /load\(\) \(from wasmqtt\/codec\)/);
    assert.deepEqual(result.encoded, [0xc0, 0x00]); // section 3.12: PINGREQ is 0xC0, remaining length 0
    assert.deepEqual(result.clientExports, []);
    assert.equal(result.sameErrorClass, true);
  } finally {
    await fresh.close();
  }
});
