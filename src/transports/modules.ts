/** The transports polyplug ships, in the order the manifest schema lists them. */
import type { TransportModule } from '../registry/types.js'
import { directModule } from './direct-module.js'
import { fifoModule } from './fifo-module.js'
import { httpModule, wsModule } from './http-module.js'
import { mqttModule } from './mqtt-module.js'
import { portModule } from './port-module.js'
import { shmModule } from './shm/module.js'
import { stdioModule } from './stdio-module.js'
import { tcpModule } from './tcp-module.js'
import { unixModule } from './unix-module.js'

export const builtinTransports: readonly TransportModule[] = [directModule, portModule, stdioModule, fifoModule, unixModule, tcpModule, httpModule, wsModule, mqttModule, shmModule]
