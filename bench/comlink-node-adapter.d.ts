// comlink ships its Node adapter as an .mjs next to a .d.ts that NodeNext resolution does not pair with it.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink'
  export default function nodeEndpoint(port: unknown): Endpoint
}
