/** A second TypeScript file, imported as './bytes.js' (TypeScript's NodeNext convention). */
export function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = i & 255
  return out
}
