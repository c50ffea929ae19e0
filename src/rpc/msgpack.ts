/**
 * MessagePack codec (msgpackr). Records and other msgpackr extensions are off so that plain
 * MessagePack libraries in other languages read every message.
 */
import { Packr } from 'msgpackr'
import type { WholeCodec } from './codec.js'
import { RpcErrorCodes, PolyplugError } from './errors.js'

const packr = new Packr({ useRecords: false, moreTypes: false, encodeUndefinedAsNil: true, mapsAsObjects: true })

export const msgpackCodec: WholeCodec = {
  name: 'msgpack',
  encode: (message) => packr.pack(message),
  decode(bytes) {
    try {
      return packr.unpack(bytes)
    } catch (cause) {
      throw new PolyplugError(RpcErrorCodes.PARSE_ERROR, `message is not valid MessagePack: ${(cause as Error).message}`, { cause })
    }
  },
}
