// Who belongs to a space, as this device sees it. Names and self-declared roles live in the
// `devices` map (anyone may edit them: they are only labels); whether a device is admitted or
// revoked, its role and its rights come from the space's signed statements, as verified by the
// space's trust gate (trust/gate.ts). Without a gate (a bare Y.Doc in a test), the `devices` map
// is read as it is, unsigned.

import * as Y from 'yjs'
import type { TrustGate } from './trust/gate.ts'
import { PermissionDeniedError } from './trust/gate.ts'

/** One device of a space, as this device sees it. */
export interface Member {
  peerId: string
  name: string
  /** Application-defined role, e.g. `phone` or `desktop`: from its signed admission when there is one. */
  role: string
  pairedAt: number
  /** Who admitted it (the signer of its admission); itself for this device. */
  pairedBy: string
  revokedAt?: number
  revokedBy?: string
  /** Rights its admission grants (e.g. `admin`). */
  rights?: string[]
  /** Admitted by this device's gate (a valid, unrevoked chain of signed admissions, or this device itself). */
  verified?: boolean
}

/** What `add` records: the label, and the admission this device signs. */
export interface NewMember {
  peerId: string
  name: string
  role: string
  pairedAt: number
  pairedBy: string
  /** Rights granted with the admission (see core/trust/rights.ts). */
  rights?: string[]
}

/** Name of the top-level Y.Map of a space document that holds its members' labels. */
export const DEVICES_MAP = 'devices'

/** Typed access to a space's members. */
export class Members {
  readonly map: Y.Map<Y.Map<unknown>>
  readonly trust: TrustGate | null
  private readonly doc: Y.Doc

  constructor (doc: Y.Doc, trust: TrustGate | null = null) {
    this.doc = doc
    this.trust = trust
    this.map = doc.getMap(DEVICES_MAP)
  }

  /** Every device named in the space or known to the gate, revoked ones included. */
  list (): Member[] {
    const ids = new Set<string>(this.map.keys())
    for (const peer of this.trust?.known() ?? []) ids.add(peer)
    const out: Member[] = []
    for (const peerId of ids) {
      const member = this.get(peerId)
      if (member !== null) out.push(member)
    }
    return out.sort((a, b) => a.pairedAt - b.pairedAt || a.peerId.localeCompare(b.peerId))
  }

  get (peerId: string): Member | null {
    const record = this.map.get(peerId)
    const label = record instanceof Y.Map ? readLabel(peerId, record) : null
    const trust = this.trust
    if (trust === null) return label
    const self = peerId === trust.self
    const admission = trust.admission(peerId)
    const revocation = trust.revocation(peerId)
    if (label === null && admission === undefined && revocation === undefined && !self) return null
    const base = label ?? { peerId, name: peerId.slice(-8), role: admission?.role ?? 'unknown', pairedAt: admission?.at ?? 0, pairedBy: admission?.by ?? '' }
    const member: Member = {
      peerId,
      name: base.name,
      role: self ? base.role : admission?.role ?? base.role,
      pairedAt: self ? base.pairedAt : admission?.at ?? base.pairedAt,
      pairedBy: self ? peerId : admission?.by ?? '',
      rights: self ? ['admin'] : admission?.rights ?? [],
      verified: trust.admits(peerId)
    }
    if (revocation !== undefined) { member.revokedAt = revocation.at; member.revokedBy = revocation.by }
    return member
  }

  /** A member admitted here and not revoked. */
  isActive (peerId: string): boolean {
    if (this.trust !== null) return this.trust.admits(peerId) && !this.trust.isRevoked(peerId)
    const member = this.get(peerId)
    return member !== null && member.revokedAt === undefined
  }

  /** A device that was revoked: it stays refused whatever anyone writes later. */
  isRevoked (peerId: string): boolean {
    if (this.trust !== null) return this.trust.isRevoked(peerId)
    return this.get(peerId)?.revokedAt !== undefined
  }

  /**
   * Record a device's label and, for another device, sign its admission (this device is `pairedBy`).
   * A revoked device is never re-activated: it pairs again as a new identity.
   */
  add (member: NewMember, origin: unknown = null): void {
    if (this.trust !== null && member.peerId !== this.trust.self && member.pairedBy !== this.trust.self) {
      throw new PermissionDeniedError('a device can only sign admissions of its own (pairedBy must be this device)')
    }
    this.doc.transact(() => {
      let record = this.map.get(member.peerId)
      if (!(record instanceof Y.Map)) {
        record = new Y.Map<unknown>()
        this.map.set(member.peerId, record)
        record.set('pairedAt', member.pairedAt)
        record.set('pairedBy', member.pairedBy)
      }
      if (this.isRevoked(member.peerId)) return
      if (record.get('revokedAt') !== undefined && this.trust === null) return
      record.set('name', member.name)
      record.set('role', member.role)
      if (this.trust !== null && member.peerId !== this.trust.self) this.trust.admit(member.peerId, member.role, member.rights ?? [], member.pairedAt, origin)
    }, origin)
  }

  /** Revoke a device: a signed statement by `by` (this device), which spreads to every member. */
  revoke (peerId: string, by: string, at = Date.now(), origin: unknown = null): boolean {
    if (this.trust !== null) {
      if (by !== this.trust.self) throw new PermissionDeniedError('a device can only sign revocations of its own (by must be this device)')
      return this.trust.revoke(peerId, at, origin)
    }
    const record = this.map.get(peerId)
    if (!(record instanceof Y.Map) || record.get('revokedAt') !== undefined) return false
    this.doc.transact(() => {
      record.set('revokedAt', at)
      record.set('revokedBy', by)
    }, origin)
    return true
  }
}

function readLabel (peerId: string, record: Y.Map<unknown>): Member | null {
  if (!(record instanceof Y.Map)) return null
  const name = record.get('name')
  const role = record.get('role')
  const pairedAt = record.get('pairedAt')
  const pairedBy = record.get('pairedBy')
  const revokedAt = record.get('revokedAt')
  const revokedBy = record.get('revokedBy')
  return {
    peerId,
    name: typeof name === 'string' ? name.slice(0, 64) : peerId.slice(-8),
    role: typeof role === 'string' ? role.slice(0, 32) : 'unknown',
    pairedAt: typeof pairedAt === 'number' ? pairedAt : 0,
    pairedBy: typeof pairedBy === 'string' ? pairedBy : '',
    ...(typeof revokedAt === 'number' ? { revokedAt } : {}),
    ...(typeof revokedBy === 'string' ? { revokedBy } : {})
  }
}
