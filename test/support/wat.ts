/** WebAssembly text compiled with wabt (npm): test modules are built from their source at run time. */
import { readFile } from 'node:fs/promises'
import wabt from 'wabt'

let compiler: ReturnType<typeof wabt> | undefined

/** Compiles WAT source text; `name` appears in wabt's error messages. */
export async function watToWasm(text: string, name = 'inline.wat'): Promise<Uint8Array> {
  compiler ??= wabt()
  const module = (await compiler).parseWat(name, text, { bulk_memory: true })
  try {
    module.validate()
    return new Uint8Array(module.toBinary({}).buffer)
  } finally {
    module.destroy()
  }
}

export async function compileWat(path: string): Promise<Uint8Array> {
  return watToWasm(await readFile(path, 'utf8'), path)
}
