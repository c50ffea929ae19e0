/** WebAssembly text compiled with wabt (npm): test modules are built from their source at run time. */
import { readFile } from 'node:fs/promises'
import wabt from 'wabt'

let compiler: ReturnType<typeof wabt> | undefined

export async function compileWat(path: string): Promise<Uint8Array> {
  compiler ??= wabt()
  const w = await compiler
  const module = w.parseWat(path, await readFile(path, 'utf8'), { bulk_memory: true })
  try {
    module.validate()
    return new Uint8Array(module.toBinary({}).buffer)
  } finally {
    module.destroy()
  }
}
