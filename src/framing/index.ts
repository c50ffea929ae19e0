/** Framing for byte streams (docs/protocol.md, "Framing"). */
export { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FRAMINGS, FrameDecoder, isFramingName, type FramingName } from './framing.js'
