/**
 * The plugin side of `mqtt` in the Node process carrier: connect to the broker the host named
 * (POLYPLUG_MQTT_URL and credentials), serve, then publish `$/ready` so the host knows its
 * `$/hello` will be heard.
 */
import type { PluginSide } from '../registry/types.js'
import { connectMqtt } from './mqtt.js'

export const mqttPluginSide: PluginSide = {
  async open({ id, env, exit }) {
    const channel = await connectMqtt({
      url: env.POLYPLUG_MQTT_URL ?? '',
      pluginId: id,
      side: 'plugin',
      ...(env.POLYPLUG_MQTT_USERNAME ? { username: env.POLYPLUG_MQTT_USERNAME } : {}),
      ...(env.POLYPLUG_MQTT_PASSWORD ? { password: env.POLYPLUG_MQTT_PASSWORD } : {}),
    })
    channel.onClose(exit)
    return async (serve) => {
      serve(channel)
      await channel.send({ jsonrpc: '2.0', method: '$/ready' })
    }
  },
}
