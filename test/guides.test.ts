/**
 * The "first plugin" guides (docs/guides/first-plugin-*.md) are followed literally: in a fresh
 * temporary folder, each ```sh block is run and each block with a title="PATH" is written to PATH,
 * in the order they appear, by one bash script with `polyplug` on PATH (the real CLI). Each ```text
 * block is output the guide promises: its lines must appear in what the commands printed.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { cliPath, root } from './support/paths.js'
import { requires, tools, type Requirement } from './support/requires.js'

const run = promisify(execFile)
const guidesDir = join(root, 'docs/guides')
// assemblyscript: npx fetches the compiler from the npm registry into npm's cache on its first build.
const needs: Record<string, Requirement[]> = { js: [], python: [tools.python3], c: [tools.gcc, tools.jansson], rust: [tools.cargo, tools.serdeJson], go: [tools.go], 'c-wasm': [tools.clang], assemblyscript: [] }

interface Guide {
  script: string
  expected: string[]
}

/** The guide as a bash script (its commands and files, in order) and the output it promises. */
function followGuide(markdown: string): Guide {
  const lines = ['set -euo pipefail']
  const expected: string[] = []
  for (const [, info, body] of markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const title = /title="([^"]+)"/.exec(info!)?.[1]
    if (title) lines.push(`mkdir -p "$(dirname '${title}')"`, `cat > '${title}' <<'POLYPLUG_GUIDE_EOF'`, body!.replace(/\n$/, ''), 'POLYPLUG_GUIDE_EOF')
    else if (info === 'sh') lines.push(body!)
    else if (info === 'text') expected.push(...body!.split('\n').filter((l) => l.trim()))
  }
  return { script: lines.join('\n'), expected }
}

const guides = (await readdir(guidesDir)).filter((f) => /^first-plugin-.+\.md$/.test(f))

describe('the first-plugin guides, followed literally', () => {
  it('there is a guide for js, python, c, rust, go, c-wasm and assemblyscript', () => {
    assert.deepEqual(Object.keys(needs).filter((lang) => !guides.includes(`first-plugin-${lang}.md`)), [])
  })

  for (const file of guides) {
    const lang = /^first-plugin-(.+)\.md$/.exec(file)![1]!
    it(file, { skip: requires(...(needs[lang] ?? [])) }, async () => {
      const guide = followGuide(await readFile(join(guidesDir, file), 'utf8'))
      assert.ok(guide.script.includes('polyplug init'), `${file} never runs polyplug init`)
      assert.ok(guide.expected.length > 0, `${file} promises no output`)
      const work = await mkdtemp(join(tmpdir(), `polyplug-guide-${lang}-`))
      try {
        const bin = join(work, '.bin')
        await run('mkdir', ['-p', bin])
        await writeFile(join(bin, 'polyplug'), `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`)
        await chmod(join(bin, 'polyplug'), 0o755)
        const { stdout } = await run('bash', ['-c', guide.script], { cwd: work, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, maxBuffer: 16 << 20 }).catch(
          (error: { stdout?: string; stderr?: string; message: string }) => assert.fail(`${file}: a step failed\n${error.stdout ?? ''}\n${error.stderr ?? error.message}`),
        )
        for (const line of guide.expected) assert.ok(stdout.includes(line), `${file} promises ${JSON.stringify(line)}; the commands printed:\n${stdout}`)
        assert.doesNotMatch(stdout, /[1-9]\d* failed/)
      } finally {
        await rm(work, { recursive: true, force: true })
      }
    })
  }
})
