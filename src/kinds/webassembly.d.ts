/**
 * The part of the WebAssembly JS API the `wasm` kind uses. TypeScript ships it only in lib.dom,
 * which this Node-only project does not load, and @types/node 20 does not declare it.
 * Remove this file if a later @types/node (or lib) provides `WebAssembly`.
 */
declare namespace WebAssembly {
  type ImportValue = ((...args: never[]) => unknown) | Memory | Global | Table
  type ModuleImports = Record<string, ImportValue | unknown>
  type Imports = Record<string, ModuleImports>
  type Exports = Record<string, unknown>
  interface ModuleImportDescriptor {
    module: string
    name: string
    kind: 'function' | 'table' | 'memory' | 'global'
  }
  interface ModuleExportDescriptor {
    name: string
    kind: 'function' | 'table' | 'memory' | 'global'
  }
  class Module {
    constructor(bytes: BufferSource)
    static imports(module: Module): ModuleImportDescriptor[]
    static exports(module: Module): ModuleExportDescriptor[]
  }
  class Instance {
    constructor(module: Module, imports?: Imports)
    readonly exports: Exports
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean })
    readonly buffer: ArrayBuffer
    grow(delta: number): number
  }
  class Global {
    value: unknown
  }
  class Table {
    readonly length: number
  }
  class RuntimeError extends Error {}
  class CompileError extends Error {}
  class LinkError extends Error {}
  function compile(bytes: BufferSource): Promise<Module>
  function instantiate(bytes: BufferSource, imports?: Imports): Promise<{ module: Module; instance: Instance }>
}
type BufferSource = ArrayBufferView | ArrayBuffer
