/** `mqtt`: through a broker (an embedded aedes, or the one in POLYPLUG_MQTT_URL); remote `mqtt(s)://`. */
import type { TransportModule } from '../registry/types.js'

export const mqttModule: TransportModule = {
  name: 'mqtt',
  description: 'process/remote: MQTT through a broker',
  sidecar: {
    needs: ['broker'],
    host: async () => (await import('./mqtt-sidecar.js')).mqttSidecarTransport,
    plugin: async () => (await import('./mqtt-plugin.js')).mqttPluginSide,
  },
  remote: {
    schemes: ['mqtt', 'mqtts'],
    dial: async () => (await import('./mqtt.js')).dialMqtt,
    pool: async () => (await import('./mqtt-pool.js')).poolMqtt,
    replica: async () => (await import('./mqtt-replica.js')).joinMqttPool,
  },
}
