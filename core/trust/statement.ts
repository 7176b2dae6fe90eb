// Signed membership statements: an admission ("by admits peer, with this role and these
// rights, at this time") or a revocation ("by revokes peer at this time"), each signed with
// the Ed25519 device key of `by`. A statement's key in the space is its signature, so a
// statement can be neither altered nor forged by another member: only dropped, which the
// gate that verified it ignores (see trust/gate.ts).

import { ed25519 } from '@noble/curves/ed25519.js'
import { base64url } from 'multiformats/bases/base64'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'

/** Signed over `SIGNING_DOMAIN + body`, so a signature made for anything else never verifies as a statement. */
const SIGNING_DOMAIN = 'dispatch-trust/1\n'

/** Largest statement body accepted (ids are ~52 characters; roles and rights are short). */
export const MAX_STATEMENT_BYTES = 2048

/** "`by` admits `peer` into `space` as `role`, with `rights`", at `at` (ms since the epoch, by `by`'s clock). */
export interface Admission {
  kind: 'admit'
  space: string
  by: string
  peer: string
  role: string
  rights: string[]
  at: number
}

/** "`by` revokes `peer` in `space`", at `at`. Nothing un-revokes. */
export interface Revocation {
  kind: 'revoke'
  space: string
  by: string
  peer: string
  at: number
}

export type Statement = Admission | Revocation

/** A statement and its signature, as kept in a space's `trust` map (key: `sig`, value: `body`). */
export interface SignedStatement {
  sig: string
  body: string
  statement: Statement
}

/** A key that cannot sign statements (only Ed25519 device keys can). */
export class UnsupportedKeyError extends Error {
  name = 'UnsupportedKeyError'
}

/** Canonical body: fixed key order, so the same statement always has the same bytes. */
export function encodeStatement (s: Statement): string {
  return s.kind === 'admit'
    ? JSON.stringify({ kind: s.kind, space: s.space, by: s.by, peer: s.peer, role: s.role, rights: s.rights, at: s.at })
    : JSON.stringify({ kind: s.kind, space: s.space, by: s.by, peer: s.peer, at: s.at })
}

/** Sign `s` with `key`, which must be the device key of `s.by`. */
export function signStatement (key: PrivateKey, s: Statement): SignedStatement {
  if (key.type !== 'Ed25519') throw new UnsupportedKeyError(`membership statements are signed with Ed25519 device keys, not ${key.type}`)
  const body = encodeStatement(s)
  // libp2p's Ed25519 raw private key is seed (32 bytes) then public key; noble signs with the seed.
  const sig = ed25519.sign(signedBytes(body), key.raw.subarray(0, 32))
  return { sig: base64url.encode(sig), body, statement: s }
}

/** The statement `body` says, if `sig` is its author's valid signature over it; null otherwise. */
export function verifyStatement (sig: unknown, body: unknown): SignedStatement | null {
  if (typeof sig !== 'string' || typeof body !== 'string' || body.length > MAX_STATEMENT_BYTES || sig.length > 120) return null
  const statement = parseStatement(body)
  if (statement === null) return null
  try {
    const key = peerIdFromString(statement.by).publicKey
    if (key?.type !== 'Ed25519') return null
    if (!ed25519.verify(base64url.decode(sig), signedBytes(body), key.raw)) return null
  } catch {
    return null
  }
  return { sig, body, statement }
}

function signedBytes (body: string): Uint8Array {
  return new TextEncoder().encode(SIGNING_DOMAIN + body)
}

function parseStatement (body: string): Statement | null {
  let v: unknown
  try { v = JSON.parse(body) } catch { return null }
  if (typeof v !== 'object' || v === null) return null
  const o = v as Record<string, unknown>
  if (typeof o.space !== 'string' || typeof o.by !== 'string' || typeof o.peer !== 'string' || typeof o.at !== 'number' || !Number.isFinite(o.at)) return null
  if (o.kind === 'revoke') return { kind: 'revoke', space: o.space, by: o.by, peer: o.peer, at: o.at }
  if (o.kind !== 'admit' || typeof o.role !== 'string' || !Array.isArray(o.rights) || !o.rights.every(r => typeof r === 'string')) return null
  return { kind: 'admit', space: o.space, by: o.by, peer: o.peer, role: o.role, rights: o.rights as string[], at: o.at }
}

/**
 * Sign any application record with a device key, under its own `domain` (e.g. 'dispatch-receipt/1'),
 * so a signature made for one kind of record never verifies as another, nor as a statement.
 */
export function signRecord (key: PrivateKey, domain: string, body: string): string {
  if (key.type !== 'Ed25519') throw new UnsupportedKeyError(`records are signed with Ed25519 device keys, not ${key.type}`)
  return base64url.encode(ed25519.sign(domainBytes(domain, body), key.raw.subarray(0, 32)))
}

/** Did device `peerId` sign `body` under `domain`? False for anything malformed. */
export function verifyRecord (peerId: string, domain: string, body: string, sig: string): boolean {
  if (domain.includes('\n') || domain === 'dispatch-trust/1') return false
  try {
    const key = peerIdFromString(peerId).publicKey
    if (key?.type !== 'Ed25519') return false
    return ed25519.verify(base64url.decode(sig), domainBytes(domain, body), key.raw)
  } catch {
    return false
  }
}

function domainBytes (domain: string, body: string): Uint8Array {
  if (domain.includes('\n') || domain === 'dispatch-trust/1') throw new UnsupportedKeyError(`"${domain}" is not a record domain`)
  return new TextEncoder().encode(`${domain}\n${body}`)
}
