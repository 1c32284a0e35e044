// The browser bundle of mqtt-packet (MQTT.js's codec) used by the codec benchmark.
import mqttPacket from 'mqtt-packet';
import { Buffer } from 'buffer';
export { mqttPacket, Buffer };
