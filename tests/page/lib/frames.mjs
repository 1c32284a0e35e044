// What crosses a page's WebSockets, as MQTT packets per WebSocket message (decoded by mqtt-packet,
// one parser per socket and direction, so that a packet split over messages is read whole).
import mqttPacket from 'mqtt-packet';

/**
 * Records the binary messages the page sends ('framesent') or receives ('framereceived'): one
 * entry per message, `{ packets, pending }`, `pending` the bytes of a packet left unfinished at
 * the message's end (0 when it ended on a packet boundary). A packet finished by a later
 * message counts in that message. Unreadable bytes show as a packet `{ cmd: 'unreadable' }`.
 */
export function recordMessages(page, event, { protocolVersion = 5 } = {}) {
  const messages = [];
  page.on('websocket', (ws) => {
    const parser = mqttPacket.parser({ protocolVersion });
    let packets = [];
    parser.on('packet', (packet) => packets.push(packet));
    parser.on('error', (error) => packets.push({ cmd: 'unreadable', error: error.message }));
    ws.on(event, ({ payload }) => {
      if (typeof payload === 'string') return;
      packets = [];
      const pending = parser.parse(payload);
      messages.push({ packets, pending });
    });
  });
  return messages;
}
