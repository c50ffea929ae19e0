// Sorts lines (natural order, case-insensitive) and removes duplicates; every call travels over MQTT.
import { definePlugin } from 'polyplug/sdk'

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })

export default definePlugin({
  methods: {
    /** @param {string} text */
    sortUnique(text) {
      const lines = text.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '')
      const unique = [...new Set(lines)].sort(collator.compare)
      return { text: unique.join('\n'), removed: lines.length - unique.length, pid: process.pid }
    },
  },
})
