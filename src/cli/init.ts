/**
 * `polyplug init DIR --lang LANG [--kind K] [--transport T]`: scaffolds a plugin (src/init/). With a
 * terminal on stdin, what the flags leave out is asked for; otherwise --lang is required.
 */
import { createInterface } from 'node:readline/promises'
import { LANGUAGES } from '../init/languages.js'
import { languageUsage, scaffold, type InitOptions } from '../init/scaffold.js'
import { UsageError } from './output.js'

export interface InitFlags {
  lang?: string
  kind?: string
  transport?: string
}

async function ask(flags: InitFlags): Promise<InitFlags> {
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  try {
    const names = Object.keys(LANGUAGES)
    const lang = flags.lang ?? ((await rl.question(`language (${names.join(', ')}) [js]: `)).trim() || 'js')
    const transports = LANGUAGES[lang]?.transports
    const transport = flags.transport ?? (transports ? (await rl.question(`transport (${transports.join(', ')}) [${transports[0]}]: `)).trim() || undefined : undefined)
    return { ...flags, lang, transport }
  } finally {
    rl.close()
  }
}

export async function runInit(positionals: string[], given: InitFlags): Promise<number> {
  const [dir] = positionals
  if (!dir) throw new UsageError(`init needs DIR; languages:\n${languageUsage()}`)
  const flags = !given.lang && process.stdin.isTTY ? await ask(given) : given
  if (!flags.lang) throw new UsageError(`init needs --lang (or a terminal to ask in); languages:\n${languageUsage()}`)
  const result = await scaffold(dir, flags as InitOptions)
  const { id, placement, transport } = result.target
  process.stdout.write(
    `made ${result.lang} plugin "${id}" (${placement}, ${transport}) in ${dir}: ${result.files.join(', ')}\n` +
      `next: polyplug check ${dir}    then: polyplug call --plugins ${dir}/.. ${id} echo '["hi"]'\n`,
  )
  return 0
}
