/** koffi, the FFI behind native plugins: an optional package, loaded when the first native plugin loads. */
import type * as Koffi from 'koffi'
import { requireOptional } from '../deps/optional.js'

const koffi = requireOptional<typeof Koffi>('koffi', 'a native plugin (kind "native")')
// eslint-disable-next-line @typescript-eslint/no-namespace -- the package's types under the same name as the loaded value
declare namespace koffi {
  export type KoffiFunction = Koffi.KoffiFunction
  export type IKoffiLib = Koffi.IKoffiLib
  export type IKoffiRegisteredCallback = Koffi.IKoffiRegisteredCallback
}
export default koffi
