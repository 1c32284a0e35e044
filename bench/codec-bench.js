// The codec benchmark, run inside the page (bench/codec.html): wasmqtt's JS-visible codec API
// (the `wasmqtt/codec` entry, pkg/codec.js, passed in as `wasmqtt`)
// against mqtt-packet (MQTT.js's parser and generator), on the same streams, in the same page.
// Each side starts from and ends with what an application has: bytes in, packet objects with
// Uint8Array payloads out, and back.

const TOPICS = Array.from({ length: 64 }, (_, i) => `plant/${i % 4}/line-${i % 8}/sensor-${i}/temperature`);

function payloadOf(size, seed) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (seed * 31 + i * 7) & 0xff;
  return bytes;
}

/** The same packets for both codecs: [wasmqtt packet, mqtt-packet packet]. */
function publishes(count, size) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const payload = payloadOf(size, i);
    const topic = TOPICS[i % TOPICS.length];
    const qos = i % 2; // half QoS 0, half QoS 1
    const packetId = qos ? (i % 65535) + 1 : undefined;
    out.push([
      { type: 'publish', topic, payload, qos, retain: false, dup: false, ...(qos ? { packetId } : {}) },
      { cmd: 'publish', topic, payload, qos, retain: false, dup: false, ...(qos ? { messageId: packetId } : {}) },
    ]);
  }
  return out;
}

/** What a busy client receives: publishes of several sizes among acks, pings and subacks. */
function mixed(count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const packetId = (i % 65535) + 1;
    const topic = TOPICS[i % TOPICS.length];
    switch (i % 10) {
      case 0: case 1: case 2: {
        const payload = payloadOf([24, 180, 900][i % 3], i);
        out.push([
          { type: 'publish', topic, payload, qos: 0, retain: false, dup: false },
          { cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false },
        ]);
        break;
      }
      case 3: {
        const payload = payloadOf(64, i);
        out.push([
          { type: 'publish', topic, payload, qos: 1, retain: false, dup: false, packetId },
          { cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false, messageId: packetId },
        ]);
        break;
      }
      case 4: out.push([{ type: 'puback', packetId, reasonCode: 0 }, { cmd: 'puback', messageId: packetId }]); break;
      case 5: out.push([{ type: 'pubrec', packetId, reasonCode: 0 }, { cmd: 'pubrec', messageId: packetId }]); break;
      case 6: out.push([{ type: 'pubrel', packetId, reasonCode: 0 }, { cmd: 'pubrel', messageId: packetId }]); break;
      case 7: out.push([{ type: 'pubcomp', packetId, reasonCode: 0 }, { cmd: 'pubcomp', messageId: packetId }]); break;
      case 8: out.push([{ type: 'pingresp' }, { cmd: 'pingresp' }]); break;
      default: out.push([
        { type: 'suback', packetId, reasonCodes: [0, 1, 2] },
        { cmd: 'suback', messageId: packetId, granted: [0, 1, 2] },
      ]);
    }
  }
  return out;
}

function concat(parts) {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function chunks(bytes, size) {
  const out = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

export function runBench({ wasmqtt, mqttPacket, Buffer }, { iterations = 15, warmup = 5, chunkSize = 16384, versions = [5, 4] } = {}) {
  const { encodePacket, PacketParser } = wasmqtt;
  // [name, packets, pushes: chunks of 16 KiB, or one packet each as most brokers send them over
  // WebSocket (decode only: encoding is one packet at a time anyway)]
  const streams = [
    ['PUBLISH 16 B', publishes(40_000, 16), 'chunks'],
    ['PUBLISH 256 B', publishes(20_000, 256), 'chunks'],
    ['PUBLISH 4 KiB', publishes(2_000, 4096), 'chunks'],
    ['mixed', mixed(40_000), 'chunks'],
    ['mixed, a push per packet', mixed(40_000), 'packets'],
  ];
  const rows = [];
  let sink = 0;
  for (const version of versions) {
    for (const [name, packets, pushes] of streams) {
      const ours = packets.map(([p]) => p);
      const theirs = packets.map(([, p]) => ({ ...p, ...(p.payload ? { payload: Buffer.from(p.payload) } : {}) }));
      const encoded = ours.map((p) => encodePacket(p, version));
      // Both codecs write the same packets (MQTT 5 acks may differ in form: mqtt-packet writes
      // the optional reason code and property length that wasmqtt leaves out).
      const same = (x, y) => JSON.stringify(x, (k, v) => (v instanceof Uint8Array ? [...v] : v)) === JSON.stringify(y, (k, v) => (v instanceof Uint8Array ? [...v] : v));
      theirs.forEach((p, i) => {
        const bytes = mqttPacket.generate(p, { protocolVersion: version });
        if (!same(wasmqtt.decodePackets(bytes, version), wasmqtt.decodePackets(encoded[i], version))) {
          throw new Error(`${name} v${version}: packet ${i} encodes differently: ${Buffer.from(encoded[i]).toString('hex')} vs ${bytes.toString('hex')}`);
        }
      });
      const stream = concat(encoded);
      const pieces = pushes === 'chunks' ? chunks(stream, chunkSize) : encoded;
      const count = packets.length;

      const decodeOurs = () => {
        const parser = new PacketParser(version);
        let n = 0;
        for (const piece of pieces) {
          const got = parser.push(piece);
          for (let i = 0; i < got.length; i++) sink += got[i].type.length + (got[i].payload?.length ?? 0);
          n += got.length;
        }
        parser.free();
        return n;
      };
      const decodeTheirs = () => {
        const parser = mqttPacket.parser({ protocolVersion: version });
        let n = 0;
        parser.on('packet', (p) => { sink += p.cmd.length + (p.payload?.length ?? 0); n++; });
        parser.on('error', (e) => { throw e; });
        // What MQTT.js does with a WebSocket message: a Buffer over its bytes.
        for (const piece of pieces) parser.parse(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
        return n;
      };
      const encodeOurs = () => {
        let n = 0;
        for (let i = 0; i < ours.length; i++) sink += encodePacket(ours[i], version).length, n++;
        return n;
      };
      const encodeTheirs = () => {
        let n = 0;
        const opts = { protocolVersion: version };
        for (let i = 0; i < theirs.length; i++) sink += mqttPacket.generate(theirs[i], opts).length, n++;
        return n;
      };
      const ops = [['decode', decodeOurs, decodeTheirs], ['encode', encodeOurs, encodeTheirs]];
      for (const [op, a, b] of pushes === 'chunks' ? ops : ops.slice(0, 1)) {
        const times = { a: [], b: [] };
        for (let k = 0; k < warmup + iterations; k++) {
          // Alternate, so that both see the same state of the machine.
          for (const [side, f] of [['a', a], ['b', b]]) {
            const t0 = performance.now();
            const result = f();
            const dt = performance.now() - t0;
            if (result !== count) throw new Error(`${name} v${version} ${op} (${side}): ${result} packets instead of ${count}`);
            if (k >= warmup) times[side].push(dt);
          }
        }
        // MB/s of wasmqtt's encoding of the stream for both, so that MB/s and packets/s agree.
        const rate = (ms) => ({ mbps: stream.length / 1e6 / (ms / 1e3), pps: count / (ms / 1e3), ms });
        rows.push({ version, stream: name, op, packets: count, bytes: stream.length, wasmqtt: rate(median(times.a)), mqttPacket: rate(median(times.b)) });
      }
    }
  }
  return { rows, sink };
}
