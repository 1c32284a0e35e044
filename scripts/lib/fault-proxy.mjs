// A fault-injecting TCP proxy on loopback, between a client and the broker's listener. It
// forwards raw bytes (the WebSocket handshake and frames alike), so a cut can land anywhere:
// mid-frame, mid-packet. Controls: cut now or after N more bytes, stall (stop forwarding without
// closing: a half-open link), delay with jitter, a bandwidth limit, refuse new connections for a
// while.
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
    // Per direction, the delayed chunks in their order: one drains at a time, so a later chunk
    // never overtakes an earlier one, however the jitter falls (as on a TCP stream).
    this.delayed = new Map([[client, []], [upstream, []]]);
    this.busyUntil = new Map([[client, 0], [upstream, 0]]);
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
    const proxy = this.proxy;
    proxy.stats.bytesForwarded += chunk.length;
    let delay = proxy.delayMs + proxy.jitterMs * proxy.random();
    if (proxy.bytesPerSecond > 0) {
      // A link of that rate: each chunk leaves once those before it have, plus its own time.
      const now = Date.now();
      const free = Math.max(now, this.busyUntil.get(to)) + (chunk.length * 1000) / proxy.bytesPerSecond;
      this.busyUntil.set(to, free);
      delay += free - now;
    }
    const queue = this.delayed.get(to);
    if (delay <= 0 && queue.length === 0) {
      to.write(chunk);
      return;
    }
    queue.push({ chunk, at: Date.now() + delay });
    if (queue.length === 1) this.drain(to);
  }

  drain(to) {
    const queue = this.delayed.get(to);
    while (!this.closed && queue.length > 0) {
      const wait = queue[0].at - Date.now();
      if (wait > 0) {
        setTimeout(() => this.drain(to), wait);
        return;
      }
      to.write(queue.shift().chunk);
    }
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
    this.jitterMs = 0;
    this.random = seeded(1);
    this.bytesPerSecond = 0;
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

  /**
   * Adds `ms` of latency to every forwarded chunk, plus up to `jitter` ms more, drawn per chunk
   * (seeded, so a run repeats); chunks keep their order in each direction.
   */
  delay(ms, { jitter = 0, seed = 1 } = {}) {
    this.delayMs = ms;
    this.jitterMs = jitter;
    this.random = seeded(seed);
  }

  /** Limits each direction of each link to `bytesPerSecond` (0: no limit). */
  rate(bytesPerSecond) { this.bytesPerSecond = bytesPerSecond; }

  /** Refuses (resets) new connections for `ms` milliseconds. */
  refuseFor(ms) { this.refuseUntil = Date.now() + ms; }

  /** Lifts every fault (stall, delay, refusal, pending cut) without touching open links. */
  heal() {
    this.stalled = false;
    this.delayMs = 0;
    this.jitterMs = 0;
    this.bytesPerSecond = 0;
    this.refuseUntil = 0;
    this.cutAfterBytes = null;
  }

  async close() {
    this.cutAll();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A small seeded generator (mulberry32): the same jitter on every run. */
function seeded(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
