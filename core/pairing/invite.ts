// Pairing invites: what a desktop shows (as text or QR) so that one phone can dial it
// and prove it saw the invite. Minting, one-line encoding, usability checks, the proof.

import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { base32upper } from 'multiformats/bases/base32'
import { base58btc } from 'multiformats/bases/base58'
import { base64url } from 'multiformats/bases/base64'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { hmac as nobleHmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { directFirst, peerIdOf } from '../net/multiaddrs.ts'

/**
 * Text prefix of every invite; the digit is the format version. Upper case so the whole
 * invite fits the QR alphanumeric mode (base32upper payload): a smaller, easier QR.
 */
export const INVITE_PREFIX = 'DISPATCH1:'
export const DEFAULT_INVITE_TTL_MS = 5 * 60 * 1000
/** 128 bits: enough that guessing within an invite's lifetime (and rate limits) is hopeless. */
export const INVITE_SECRET_BYTES = 16
export const MAX_INVITE_NAME_BYTES = 64
export const MAX_INVITE_ADDRS = 16
/** Trailing checksum: a mistyped or truncated invite is refused here, not as a "wrong secret". */
const CHECKSUM_BYTES = 4

/** A decoded invite: where to dial the desktop, the one-time secret, expiry and name. */
export interface Invite {
  /** The desktop's peer id (base58btc string, as in `/p2p/<peerId>`). */
  peerId: string
  /** Where to dial it, LAN first then relay; each ends in `/p2p/<peerId>`. */
  addrs: Multiaddr[]
  /** One-time secret; the desktop keeps its own copy until spent or expired. */
  secret: Uint8Array
  /** Milliseconds since the epoch (whole seconds: the encoding stores seconds). */
  expiresAt: number
  /** The desktop's name, shown on the phone before the user confirms. */
  name: string
}

export interface MintInviteOptions {
  addrs: Array<Multiaddr | string>
  name: string
  ttlMs?: number
  now?: number
}

/** Text that is not a readable invite (garbage, damaged, another version). */
export class InvalidInviteError extends Error {
  name = 'InvalidInviteError'
}

/** An invite without a secret, or a bare multiaddr: it cannot pair anyone. */
export class InviteMissingSecretError extends Error {
  name = 'InviteMissingSecretError'
}

/** The invite is past its expiry. */
export class InviteExpiredError extends Error {
  name = 'InviteExpiredError'
}

/** Make a fresh invite for the device at `addrs` (each ending in `/p2p/<peerId>`), with a new one-time secret. `PairingService.openInvite` does this for you. */
export function mintInvite (opts: MintInviteOptions): { invite: Invite, secret: Uint8Array } {
  const now = opts.now ?? Date.now()
  const ttlMs = opts.ttlMs ?? DEFAULT_INVITE_TTL_MS
  if (!(ttlMs > 0)) throw new InvalidInviteError(`invite lifetime must be positive, got ${ttlMs} ms`)
  if (new TextEncoder().encode(opts.name).length > MAX_INVITE_NAME_BYTES) {
    throw new InvalidInviteError(`device name is longer than ${MAX_INVITE_NAME_BYTES} bytes`)
  }
  const parsed = opts.addrs.map(a => typeof a === 'string' ? parseAddr(a) : a)
  const peerId = commonPeerId(parsed)
  // Relay addresses after direct ones, keeping the caller's order otherwise.
  const addrs = directFirst(parsed)
  const secret = crypto.getRandomValues(new Uint8Array(INVITE_SECRET_BYTES))
  const expiresAt = Math.floor((now + ttlMs) / 1000) * 1000
  return { invite: { peerId, addrs, secret, expiresAt, name: opts.name }, secret }
}

/**
 * Binary layout (lib0 var-length encoding), then base32upper multibase after the prefix:
 * varUint8Array secret · varUint expiry seconds · varString name · varUint8Array peer id
 * multihash · varUint n · n × varUint8Array multiaddr bytes without the final /p2p ·
 * 4 bytes SHA-256 checksum of all of the above.
 */
export function encodeInvite (invite: Invite): string {
  if (invite.addrs.length > MAX_INVITE_ADDRS) throw new InvalidInviteError(`an invite carries at most ${MAX_INVITE_ADDRS} addresses`)
  const body = encoding.encode(enc => {
    encoding.writeVarUint8Array(enc, invite.secret)
    encoding.writeVarUint(enc, Math.floor(invite.expiresAt / 1000))
    encoding.writeVarString(enc, invite.name)
    encoding.writeVarUint8Array(enc, peerIdBytes(invite.peerId))
    encoding.writeVarUint(enc, invite.addrs.length)
    for (const addr of invite.addrs) {
      if (peerIdOf(addr) !== invite.peerId) throw new InvalidInviteError(`address ${addr.toString()} does not end in /p2p/${invite.peerId}`)
      encoding.writeVarUint8Array(enc, multiaddr(addr.getComponents().slice(0, -1)).bytes)
    }
  })
  const bytes = new Uint8Array(body.length + CHECKSUM_BYTES)
  bytes.set(body)
  bytes.set(sha256(body).subarray(0, CHECKSUM_BYTES), body.length)
  return INVITE_PREFIX + base32upper.encode(bytes)
}

/** Parses invite text; refuses garbage, bare multiaddrs and secretless invites. Expiry is checked by `assertInviteUsable`. */
export function decodeInvite (text: string): Invite {
  const trimmed = text.trim()
  if (trimmed.startsWith('/')) {
    let isAddr = true
    try { multiaddr(trimmed) } catch { isAddr = false }
    if (isAddr) throw new InviteMissingSecretError('this is a bare multiaddr, not an invite: it carries no secret, so it cannot pair. Use an invite from the device you pair with')
  }
  if (trimmed.slice(0, INVITE_PREFIX.length).toUpperCase() !== INVITE_PREFIX) {
    if (/^dispatch\d+:/i.test(trimmed)) throw new InvalidInviteError('this invite comes from another version of dispatch and cannot be read here')
    throw new InvalidInviteError(`not a dispatch invite (it should start with ${INVITE_PREFIX})`)
  }
  const bytes = decodePayload(trimmed.slice(INVITE_PREFIX.length))
  if (bytes.length <= CHECKSUM_BYTES) throw new InvalidInviteError('invite is truncated')
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES)
  if (!equalBytes(sha256(body).subarray(0, CHECKSUM_BYTES), bytes.subarray(body.length))) {
    throw new InvalidInviteError('invite is damaged or incomplete (checksum mismatch); copy it again')
  }
  let invite: Invite
  try {
    const dec = decoding.createDecoder(body)
    const secret = readBytes(dec)
    const expiresAt = decoding.readVarUint(dec) * 1000
    const name = decoding.readVarString(dec)
    const peerId = base58btc.baseEncode(readBytes(dec))
    const n = decoding.readVarUint(dec)
    if (n < 1 || n > MAX_INVITE_ADDRS) throw new Error(`bad address count ${n}`)
    const addrs: Multiaddr[] = []
    for (let i = 0; i < n; i++) addrs.push(multiaddr(readBytes(dec)).encapsulate(`/p2p/${peerId}`))
    if (decoding.hasContent(dec)) throw new Error('trailing bytes')
    invite = { peerId, addrs, secret: secret.slice(), expiresAt, name }
  } catch (err) {
    throw new InvalidInviteError(`invite is malformed: ${(err as Error).message}`)
  }
  if (invite.secret.length === 0) throw new InviteMissingSecretError('invite carries no secret, so it cannot pair; ask for a new invite')
  if (invite.secret.length < INVITE_SECRET_BYTES) throw new InvalidInviteError(`invite secret is shorter than ${INVITE_SECRET_BYTES * 8} bits`)
  return invite
}

/** Throws unless the invite has a secret and has not expired at `now`. */
export function assertInviteUsable (invite: Invite, now: number = Date.now()): void {
  if (invite.secret.length === 0) throw new InviteMissingSecretError('invite carries no secret, so it cannot pair')
  if (now >= invite.expiresAt) {
    throw new InviteExpiredError(`invite expired at ${new Date(invite.expiresAt).toISOString()}; ask for a new invite`)
  }
}

/**
 * HMAC-SHA256 keyed by the invite secret over both peer ids (and the desktop's nonce):
 * a proof captured on the wire proves nothing for any other phone or desktop identity.
 * Pure JavaScript (@noble/hashes), not Web Crypto: a page on plain `http://<lan-host>` is not a
 * secure context and has no `crypto.subtle`, and a phone pairs from exactly such a page. Async
 * only to keep the API it had when it used Web Crypto.
 */
export async function inviteProof (secret: Uint8Array, phonePeerId: string, desktopPeerId: string, nonce: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
  return hmac(secret, bindingMessage('dispatch/pair/proof/1', phonePeerId, desktopPeerId, nonce))
}

/** Constant-time check of a proof received by the desktop. */
export async function verifyInviteProof (secret: Uint8Array, phonePeerId: string, desktopPeerId: string, proof: Uint8Array, nonce?: Uint8Array): Promise<boolean> {
  const expected = await inviteProof(secret, phonePeerId, desktopPeerId, nonce)
  if (proof.length !== expected.length) return false
  let diff = 0
  for (let i = 0; i < expected.length; i++) diff |= expected[i] ^ proof[i]
  return diff === 0
}

/** Six digits both sides display before the users confirm; separate from the proof by its label. */
export async function verificationCode (secret: Uint8Array, phonePeerId: string, desktopPeerId: string): Promise<string> {
  const mac = hmac(secret, bindingMessage('dispatch/pair/code/1', phonePeerId, desktopPeerId, new Uint8Array(0)))
  const n = new DataView(mac.buffer, mac.byteOffset, 4).getUint32(0)
  return String(n % 1_000_000).padStart(6, '0')
}

function bindingMessage (label: string, phonePeerId: string, desktopPeerId: string, nonce: Uint8Array): Uint8Array {
  return encoding.encode(enc => {
    encoding.writeVarString(enc, label)
    encoding.writeVarString(enc, phonePeerId)
    encoding.writeVarString(enc, desktopPeerId)
    encoding.writeVarUint8Array(enc, nonce)
  })
}

function hmac (key: Uint8Array, message: Uint8Array): Uint8Array {
  if (key.length === 0) throw new InviteMissingSecretError('no invite secret to prove')
  return nobleHmac(sha256, key, message)
}

function decodePayload (payload: string): Uint8Array {
  try {
    switch (payload[0]) {
      case 'B': case 'b': return base32upper.decode('B' + payload.slice(1).toUpperCase())
      case 'z': return base58btc.decode(payload)
      case 'u': return base64url.decode(payload)
      default: throw new Error(`unknown encoding ${JSON.stringify(payload[0] ?? '')}`)
    }
  } catch (err) {
    throw new InvalidInviteError(`invite text is not readable: ${(err as Error).message}`)
  }
}

function readBytes (dec: decoding.Decoder): Uint8Array {
  const len = decoding.readVarUint(dec)
  if (dec.pos + len > dec.arr.length) throw new Error('truncated field')
  return decoding.readUint8Array(dec, len)
}

function peerIdBytes (peerId: string): Uint8Array {
  try {
    return base58btc.baseDecode(peerId)
  } catch {
    throw new InvalidInviteError(`not a base58btc peer id: ${peerId}`)
  }
}

function parseAddr (text: string): Multiaddr {
  try {
    return multiaddr(text)
  } catch (err) {
    throw new InvalidInviteError(`not a multiaddr: ${text} (${(err as Error).message})`)
  }
}

function commonPeerId (addrs: Multiaddr[]): string {
  if (addrs.length === 0) throw new InvalidInviteError('an invite needs at least one address')
  if (addrs.length > MAX_INVITE_ADDRS) throw new InvalidInviteError(`an invite carries at most ${MAX_INVITE_ADDRS} addresses`)
  const first = peerIdOf(addrs[0])
  for (const addr of addrs) {
    const id = peerIdOf(addr)
    if (id === undefined) throw new InvalidInviteError(`address ${addr.toString()} does not end in /p2p/<peerId>`)
    if (id !== first) throw new InvalidInviteError(`addresses name different peers (${first} and ${id})`)
  }
  return first as string
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
