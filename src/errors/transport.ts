/** The transport layer's error codes: moving messages: framings, sockets, pipes, brokers, shared memory (src/framing, src/transports). Meanings, causes and fixes: docs/errors.md. */
export const TransportErrorCodes = {
  TRANSPORT_UNAVAILABLE: 'TRANSPORT_UNAVAILABLE',
  FRAME_INVALID: 'FRAME_INVALID',
  FRAME_TIMEOUT: 'FRAME_TIMEOUT',
  SHM_CORRUPT: 'SHM_CORRUPT',
} as const
