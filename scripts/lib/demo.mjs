// The demo as `npm start` runs it: an embedded mosquitto, a fault proxy in front of its WebSocket
// listener (so the page's "cut" and "outage" buttons do to the link what a real network does),
// the sensor simulator, and the static server with the dashboard and its controls.
import { startBroker } from './broker.mjs';
import { startFaultProxy } from './fault-proxy.mjs';
import { startSensors } from './sensors.mjs';
import { serve } from './serve.mjs';

export async function startDemo({ port = 0, intervalMs = 500 } = {}) {
  // No queued-message limit: a dashboard away for a while gets everything it missed.
  const broker = await startBroker({ persistence: true, maxQueuedMessages: 0 });
  const proxy = await startFaultProxy({ targetPort: broker.wsPort });
  const sensors = await startSensors({ brokerUrl: broker.tcpUrl, intervalMs });
  const cut = () => {
    const links = proxy.openLinks;
    proxy.cutAll();
    return links;
  };
  const routes = {
    '/demo/cut': async () => ({ cut: cut() }),
    '/demo/outage': async (params) => {
      const ms = Math.min(Number(params.get('ms')) || 10_000, 60_000);
      proxy.refuseFor(ms);
      return { cut: cut(), ms };
    },
  };
  const config = { brokerUrl: proxy.wsUrl, devices: sensors.devices, controls: Object.keys(routes) };
  const server = await serve({ port, config, routes });
  return {
    broker,
    proxy,
    sensors,
    server,
    url: `${server.url}/www/`,
    async close() {
      await server.close();
      await sensors.stop();
      await proxy.close();
      await broker.dispose();
    },
  };
}
