import { fileURLToPath } from 'node:url'

/** The repository root (tests run from dist/test/). */
export const root = fileURLToPath(new URL('../../../', import.meta.url))
export const examplesDir = `${root}examples`
export const fixturesDir = `${root}test/fixtures`
export const cliPath = `${root}bin/polyplug.js`
