// The low-level codec, typed: packets narrow on `type`, decoded packets go back into
// encodePacket as they are, and misuse fails to compile (each @ts-expect-error line).
import { load, encodePacket, decodePackets, PacketParser, type Packet, type PacketInit, type DecodeError } from 'wasmqtt/codec';

async function relay(frames: AsyncIterable<Uint8Array>): Promise<void> {
  await load();
  const parser = new PacketParser(5, 1 << 20);
  try {
    for await (const frame of frames) {
      const packets: Packet[] = parser.push(frame);
      for (const packet of packets) {
        if (packet.type === 'publish') {
          const size: number = packet.payload.byteLength;
          const id: number | undefined = packet.packetId;
          console.log(packet.topic, size, id, packet.properties?.contentType);
          if (packet.qos > 0 && id !== undefined) {
            const ack: Uint8Array = encodePacket({ type: 'puback', packetId: id }, 5);
            void ack;
          }
        } else if (packet.type === 'suback') {
          const granted: number[] = packet.reasonCodes;
          void granted;
        }
        // A decoded packet encodes again as it is.
        encodePacket(packet);
      }
    }
  } catch (error) {
    const e = error as DecodeError;
    console.log(e.code, e.reasonCode, e.packets.length);
  } finally {
    parser.free();
  }
  const init: PacketInit[] = [
    { type: 'connect', clientId: 'c', will: { topic: 'w', payload: 'bye' }, password: 'secret' },
    { type: 'publish', topic: 't', payload: 'text', qos: 1, packetId: 1, properties: { messageExpiryInterval: 5 } },
    { type: 'subscribe', packetId: 2, subscriptions: [{ filter: 'a/#', qos: 2, retainHandling: 1 }] },
    { type: 'unsuback', packetId: 3 },
    { type: 'pingreq' },
    { type: 'auth', reasonCode: 0x18 },
  ];
  const all: Packet[] = decodePackets(new Uint8Array(init.flatMap((p) => [...encodePacket(p, 5)])), 5);
  void all;
}
void relay;

function misuse(): void {
  // @ts-expect-error: QoS 3 does not exist
  encodePacket({ type: 'publish', topic: 't', qos: 3 });
  // @ts-expect-error: a publish needs a topic
  encodePacket({ type: 'publish', payload: 'x' });
  // @ts-expect-error: no such packet type
  encodePacket({ type: 'publsh', topic: 't' });
  // @ts-expect-error: acks need a packet id
  encodePacket({ type: 'puback' });
  // @ts-expect-error: no MQTT version 6
  decodePackets(new Uint8Array(), 6);
  // @ts-expect-error: bytes, not a string
  new PacketParser().push('c000');
  const [first] = decodePackets(new Uint8Array([0xc0, 0x00]));
  // @ts-expect-error: not every packet has a topic; narrow on type first
  console.log(first.topic);
}
void misuse;

// @ts-expect-error: the codec is an entry of its own, not part of the client's
import { encodePacket as notInTheClient } from 'wasmqtt';
void notInTheClient;
