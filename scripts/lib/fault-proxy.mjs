// A fault-injecting TCP proxy on loopback, between a client and the broker's listener. It
// forwards raw bytes (the WebSocket handshake and frames alike), so a cut can land anywhere:
// mid-frame, mid-packet. Controls: cut now or after N more bytes, stall (stop forwarding without
// closing: a half-open link), delay, refuse new connections for a while.
import net from 'node:net';

export async function startFaultProxy({ targetPort, targetHost = '127.0.0.1' }) {
  const proxy = new FaultProxy(targetHost, targetPort);
  await proxy.listen();
  return proxy;
}

class Link {
  constructor(client, upstream, proxy) {
    this.client = client;
    this.upstream = upstream;
    this.proxy = proxy;
    this.closed = false;
    this.held = [];
    for (const [from, to] of [[client, upstream], [upstream, client]]) {
      from.on('data', (chunk) => this.forward(chunk, to));
      from.on('error', () => this.close());
      from.on('close', () => this.close());
    }
  }

  forward(chunk, to) {
    if (this.closed) return;
    const proxy = this.proxy;
    if (proxy.cutAfterBytes !== null) {
      if (chunk.length >= proxy.cutAfterBytes) {
        const head = chunk.subarray(0, proxy.cutAfterBytes);
        proxy.cutAfterBytes = null;
        this.send(head, to);
        // Let the partial bytes leave before the reset.
        setImmediate(() => this.close({ reset: true }));
        return;
      }
      proxy.cutAfterBytes -= chunk.length;
    }
    if (proxy.stalled) {
      // A half-open link: the bytes are swallowed, nothing is closed.
      proxy.stats.bytesSwallowed += chunk.length;
      return;
    }
    this.send(chunk, to);
  }

  send(chunk, to) {
    this.proxy.stats.bytesForwarded += chunk.length;
    const delay = this.proxy.delayMs;
    if (delay > 0) setTimeout(() => { if (!this.closed) to.write(chunk); }, delay);
    else to.write(chunk);
  }

  close({ reset = false } = {}) {
    if (this.closed) return;
    this.closed = true;
    this.proxy.links.delete(this);
    for (const socket of [this.client, this.upstream]) {
      if (reset && socket.resetAndDestroy) socket.resetAndDestroy();
      else socket.destroy();
    }
  }
}

class FaultProxy {
  constructor(targetHost, targetPort) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.links = new Set();
    this.stalled = false;
    this.delayMs = 0;
    this.cutAfterBytes = null;
    this.refuseUntil = 0;
    this.stats = { connections: 0, refused: 0, cuts: 0, bytesForwarded: 0, bytesSwallowed: 0 };
    this.server = net.createServer((client) => this.accept(client));
  }

  listen() {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = this.server.address().port;
        resolve();
      });
    });
  }

  get wsUrl() { return `ws://127.0.0.1:${this.port}`; }

  accept(client) {
    if (Date.now() < this.refuseUntil) {
      this.stats.refused += 1;
      client.resetAndDestroy ? client.resetAndDestroy() : client.destroy();
      return;
    }
    this.stats.connections += 1;
    client.setNoDelay(true);
    const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
    upstream.setNoDelay(true);
    this.links.add(new Link(client, upstream, this));
  }

  /** Number of links currently open. */
  get openLinks() { return this.links.size; }

  /** Resets every open link now. */
  cutAll() {
    for (const link of [...this.links]) {
      this.stats.cuts += 1;
      link.close({ reset: true });
    }
  }

  /** Resets the link that carries the next `bytes` bytes (in either direction), mid-stream. */
  cutAfter(bytes) {
    this.stats.cuts += 1;
    this.cutAfterBytes = bytes;
  }

  /** Stops forwarding (or resumes with false) without closing anything. */
  stall(on = true) { this.stalled = on; }

  /** Adds `ms` of latency to every forwarded chunk. */
  delay(ms) { this.delayMs = ms; }

  /** Refuses (resets) new connections for `ms` milliseconds. */
  refuseFor(ms) { this.refuseUntil = Date.now() + ms; }

  /** Lifts every fault (stall, delay, refusal, pending cut) without touching open links. */
  heal() {
    this.stalled = false;
    this.delayMs = 0;
    this.refuseUntil = 0;
    this.cutAfterBytes = null;
  }

  async close() {
    this.cutAll();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }
}
