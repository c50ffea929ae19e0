/** Framing for byte streams (docs/protocol.md, "Framing"). */
export { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FRAMINGS, FrameDecoder, isBinarySafe, isFramingName, type FramingName } from './framing.js'
export { DEFAULT_FRAME_READ_TIMEOUT_MS, FrameStallTimer } from './stall.js'
