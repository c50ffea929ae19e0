/**
 * `polyplug init`: writes a plugin folder (manifest, sources, kit, README) that passes
 * `polyplug check DIR` at once; a compiled plugin declares its build, which `check` runs.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { copyKit } from '../cli/kit.js'
import { UsageError } from '../cli/output.js'
import { LANGUAGES, languageFor, placementOf, type Language, type ScaffoldTarget } from './languages.js'

export interface InitOptions {
  lang: string
  kind?: string
  transport?: string
  /** The plugin's id; default: the folder's name, made valid. */
  id?: string
}

export interface InitResult {
  dir: string
  lang: string
  target: ScaffoldTarget
  files: string[]
}

export function languageUsage(): string {
  return Object.entries(LANGUAGES)
    .map(([name, l]) => `    ${name.padEnd(13)} ${l.about}${l.transports ? ` [${l.transports.join(', ')}]` : ''}`)
    .join('\n')
}

function idFrom(dir: string): string {
  const id = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '')
  return id || 'my-plugin'
}

/** The language, kind and transport an InitOptions names, or a UsageError saying what is allowed. */
export function resolveTarget(dir: string, options: InitOptions): { name: string; language: Language; target: ScaffoldTarget } {
  const name = languageFor(options.lang, options.kind)
  const language = LANGUAGES[name]
  if (!language) throw new UsageError(`unknown language "${options.lang}"; languages:\n${languageUsage()}`)
  if (options.kind && options.kind !== language.kind) {
    const kinds = [...new Set(Object.entries(LANGUAGES).filter(([n]) => n === options.lang || n.startsWith(`${options.lang}-`)).map(([, l]) => l.kind))]
    throw new UsageError(`--lang ${options.lang} cannot make a plugin of kind "${options.kind}"; it makes kind ${kinds.join(' or ')}`)
  }
  const transports = language.transports ?? []
  const transport = options.transport ?? transports[0]!
  if (!transports.includes(transport)) throw new UsageError(`the ${name} scaffold does not speak transport "${transport}"; it speaks ${transports.join(', ')}`)
  return { name, language, target: { id: options.id ?? idFrom(dir), placement: placementOf(transport), transport } }
}

function readme(name: string, language: Language, target: ScaffoldTarget, manifest: Record<string, unknown>): string {
  const build = manifest.build as { command: string[] } | undefined
  return `# ${target.id}

A polyplug plugin in ${name} (kind \`${language.kind}\`, placement \`${target.placement}\`, transport \`${target.transport}\`), made by \`polyplug init\`.
It implements the conformance methods of polyplug's docs/conformance.md (echo, add, fail, sleep,
cancelCount, bytes, callHost, count, produced, sum, crash), so \`polyplug check\` exercises every check.
${language.toolchain ? `\nNeeds \`${language.toolchain.command}\` (${language.toolchain.install}).\n` : ''}${build ? `\nThe manifest declares its build (\`${build.command.join(' ')}\`): \`polyplug check\` runs it when its output is missing or older than its sources; the host never builds.\n` : ''}
## Check it

\`\`\`sh
npx polyplug check .
\`\`\`

## Call it

\`polyplug call\` takes the folder that holds plugin folders:

\`\`\`sh
npx polyplug call --plugins .. ${target.id} add '[2, 3]'
\`\`\`

## Change it

${language.edit} Then run \`polyplug check .\` again.
`
}

/** Writes the scaffold into `dir` (created if needed; it must be empty). */
export async function scaffold(dir: string, options: InitOptions): Promise<InitResult> {
  const { name, language, target } = resolveTarget(dir, options)
  await mkdir(dir, { recursive: true })
  const present = await readdir(dir)
  if (present.length > 0) throw new UsageError(`${dir} is not empty (${present.slice(0, 5).join(', ')}${present.length > 5 ? ', …' : ''}); polyplug init writes into a new or empty folder`)
  const files = await language.files(target)
  const manifest = {
    id: target.id,
    version: '0.1.0',
    description: `A ${name} plugin made by polyplug init.`,
    ...language.manifest(target),
    placement: target.placement,
    transport: target.transport,
  }
  files['polyplug.json'] = `${JSON.stringify(manifest, null, 2)}\n`
  files['README.md'] = readme(name, language, target, manifest)
  // The kit first: the scaffold's README replaces the kit's own (the kit's is in polyplug's kits/).
  const kitFiles = language.kit ? await copyKit(language.kit, dir, false) : []
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true })
    await writeFile(join(dir, path), text)
  }
  return { dir, lang: name, target, files: [...new Set([...Object.keys(files), ...kitFiles])].sort() }
}
