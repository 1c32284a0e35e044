// The one shape of every error wasmqtt raises, here and from the wasm (src/web/error.rs builds
// them with this class once `load()` registered it): an MqttError with a stable `code` (the codes
// are listed in the README and in index.d.ts), so `error instanceof MqttError` holds.

export class MqttError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.code = code;
  }
}
MqttError.prototype.name = 'MqttError';

export function mqttError(code, message, options) {
  return new MqttError(code, message, options);
}

export function closedError() {
  return mqttError('CLIENT_ENDED', 'the client has ended');
}
