// Bench only: a bytes producer for the stream throughput rows (bench/cases/stream.ts).
import { definePlugin } from 'polyplug/sdk'

export default definePlugin({
  methods: {
    /** `total` bytes as chunks of `size` bytes: the same buffer each time, as the raw baseline writes it. */
    async *flood(total, size) {
      const chunk = new Uint8Array(size).map((_, i) => i & 255)
      for (let sent = 0; sent < total; sent += size) yield chunk
    },
  },
})
