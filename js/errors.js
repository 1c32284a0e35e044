// The one shape of every error wasmqtt's JavaScript side raises: an Error named MqttError with a
// stable `code` (the codes are listed in the README and in index.d.ts).

export function mqttError(code, message) {
  const error = new Error(message);
  error.name = 'MqttError';
  error.code = code;
  return error;
}

export function closedError() {
  return mqttError('CLIENT_ENDED', 'the client has ended');
}
