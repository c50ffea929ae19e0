// Counts lines, words and characters and lists the most frequent words: runs inline, on the host's thread.
import { definePlugin } from 'polyplug/sdk'

export interface TextStats {
  lines: number
  words: number
  characters: number
  topWords: [string, number][]
}

export default definePlugin({
  methods: {
    stats(text: string): TextStats {
      const words = text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []
      const counts = new Map<string, number>()
      for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1)
      const topWords = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5)
      return { lines: text === '' ? 0 : text.split('\n').length, words: words.length, characters: [...text].length, topWords }
    },
  },
})
