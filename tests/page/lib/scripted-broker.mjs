// A scripted MQTT broker on a WebSocket, for what mosquitto cannot do without plugins (enhanced
// authentication) or will not do at all (a hostile broker: packets the spec forbids, limits it
// does not keep). The test gives a handler that sees each decoded packet and answers with
// packets of its own, or with raw bytes. WebSocket framing (RFC 6455) is done here; MQTT packets
// by mqtt-packet.
import http from 'node:http';
import crypto from 'node:crypto';
import mqttPacket from 'mqtt-packet';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One unmasked, final WebSocket frame of `opcode` carrying `payload` (RFC 6455 5.2). */
function frame(opcode, payload) {
  let header;
  if (payload.length < 126) {
    header = Buffer.from([0x80 | opcode, payload.length]);
  } else if (payload.length < 65536) {
    header = Buffer.alloc(4);
    header.writeUInt8(0x80 | opcode, 0);
    header.writeUInt8(126, 1);
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header.writeUInt8(0x80 | opcode, 0);
    header.writeUInt8(127, 1);
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  return Buffer.concat([header, payload]);
}

/** One client's connection: `send(packet)`, `close()`, and `packets` received so far. */
class Connection {
  constructor(socket, protocolVersion) {
    this.socket = socket;
    this.protocolVersion = protocolVersion;
    this.packets = [];
    this.buffer = Buffer.alloc(0);
    this.parser = mqttPacket.parser({ protocolVersion });
  }

  /** Sends one packet (an mqtt-packet object) in one binary frame. */
  send(packet) {
    this.sendRaw(mqttPacket.generate(packet, { protocolVersion: this.protocolVersion }));
  }

  /** Sends `bytes` as they are in one binary frame: what no well-behaved broker would send. */
  sendRaw(bytes) {
    this.socket.write(frame(0x2, Buffer.from(bytes)));
  }

  /** Sends a text frame, which MQTT over WebSocket does not allow (MQTT-6.0.0-1). */
  sendText(text) {
    this.socket.write(frame(0x1, Buffer.from(text)));
  }

  close() {
    this.socket.end(Buffer.from([0x88, 0]));
  }

  /** Cuts complete frames out of the stream; returns their payloads (binary data only). */
  frames(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const out = [];
    for (;;) {
      if (this.buffer.length < 2) break;
      const opcode = this.buffer[0] & 0x0f;
      let length = this.buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) break;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) break;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (this.buffer[1] & 0x80) !== 0;
      const end = offset + (masked ? 4 : 0) + length;
      if (this.buffer.length < end) break;
      const data = Buffer.from(this.buffer.subarray(offset + (masked ? 4 : 0), end));
      if (masked) {
        const mask = this.buffer.subarray(offset, offset + 4);
        for (let i = 0; i < data.length; i++) data[i] ^= mask[i % 4];
      }
      this.buffer = this.buffer.subarray(end);
      if (opcode === 0x8) {
        // Nothing follows a close frame; the caller notes what had arrived before it.
        this.closeFrameSeen = true;
        this.socket.end();
        break;
      }
      else if (opcode === 0x9) this.socket.write(Buffer.concat([Buffer.from([0x8a, data.length]), data]));
      else if (opcode === 0x2 || opcode === 0x0) out.push(data);
    }
    return out;
  }
}

/**
 * Starts the broker on a free loopback port. `handler(packet, connection)` runs for each packet
 * a client sends, read as `protocolVersion` (5, or 4 for MQTT 3.1.1). Resolves with
 * { wsUrl, connections, close() }.
 */
export function startScriptedBroker(handler, { protocolVersion = 5 } = {}) {
  const connections = [];
  const server = http.createServer((req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, socket) => {
    const key = req.headers['sec-websocket-key'];
    const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
    socket.write([
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${accept}`,
      'Sec-WebSocket-Protocol: mqtt',
      '', '',
    ].join('\r\n'));
    const connection = new Connection(socket, protocolVersion);
    // The path and query the client asked for (a signed URL's, say).
    connection.url = req.url;
    connections.push(connection);
    socket.on('close', () => { connection.closed = true; });
    // What mqtt-packet cannot read is kept as such: the test sees it among the packets.
    connection.parser.on('error', (error) => connection.packets.push({ cmd: 'unreadable', error: error.message }));
    connection.parser.on('packet', (packet) => {
      connection.packets.push(packet);
      handler(packet, connection);
    });
    socket.on('data', (chunk) => {
      for (const frame of connection.frames(chunk)) connection.parser.parse(frame);
      // What had arrived when the client's close frame came: a goodbye must come before it.
      if (connection.closeFrameSeen) connection.packetsBeforeClose ??= connection.packets.map((p) => p.cmd);
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        wsUrl: `ws://127.0.0.1:${server.address().port}`,
        connections,
        close: () => new Promise((done) => {
          for (const c of connections) c.socket.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}
