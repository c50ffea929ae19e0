/**
 * Package signatures: Ed25519 over the exact bytes of `.polyplug-package.json`, which holds every
 * file's SHA-256, so one signature covers the whole package. A host that lists trusted public
 * keys installs only packages signed by one of them.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

export const PACKAGE_SIGNATURE = '.polyplug-signature.json'

export interface PackageSignature {
  algorithm: 'ed25519'
  /** First 16 hex digits of the SHA-256 of the public key (SPKI, DER): which key to check with. */
  keyId: string
  /** Base64. */
  signature: string
}

/** A key as PEM text or a KeyObject. */
export type KeyInput = string | KeyObject

export function keyId(publicKey: KeyInput): string {
  const der = toPublic(publicKey).export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(der).digest('hex').slice(0, 16)
}

/** A new Ed25519 key pair as PEM: PKCS#8 private, SPKI public. */
export function generateSigningKeys(): { privateKey: string; publicKey: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyId(publicKey),
  }
}

export function signMeta(meta: Uint8Array, privateKey: KeyInput): PackageSignature {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey
  if (key.asymmetricKeyType !== 'ed25519') throw new PolyplugError(ErrorCodes.INVALID_PARAMS, `package signing keys are Ed25519, not ${key.asymmetricKeyType}`)
  return { algorithm: 'ed25519', keyId: keyId(createPublicKey(key)), signature: sign(null, meta, key).toString('base64') }
}

/**
 * Checks `signature` over `meta` against the trusted keys; throws PACKAGE_UNTRUSTED when it is
 * missing, made with a key not trusted, or does not verify. Returns the key id that signed.
 */
export function verifyMeta(meta: Uint8Array, signature: PackageSignature | undefined, trusted: readonly KeyInput[], plugin?: string): string {
  if (!signature) throw untrusted('the package is not signed, and this host installs only signed packages', plugin)
  if (signature.algorithm !== 'ed25519' || typeof signature.keyId !== 'string' || typeof signature.signature !== 'string') {
    throw untrusted('the package signature is malformed', plugin)
  }
  const key = trusted.map(toPublic).find((k) => keyId(k) === signature.keyId)
  if (!key) throw untrusted(`the package is signed by key ${signature.keyId}, which this host does not trust`, plugin, { keyId: signature.keyId })
  if (!verify(null, meta, key, Buffer.from(signature.signature, 'base64'))) {
    throw untrusted(`the signature by key ${signature.keyId} does not match the package`, plugin, { keyId: signature.keyId })
  }
  return signature.keyId
}

function toPublic(key: KeyInput): KeyObject {
  return typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key
}

function untrusted(message: string, plugin?: string, data?: Record<string, unknown>): PolyplugError {
  return new PolyplugError(ErrorCodes.PACKAGE_UNTRUSTED, message, { plugin, data })
}
