// Who belongs to a space: the `devices` map inside the space's own document,
// so membership and revocations replicate like any other change.

import * as Y from 'yjs'

/** One device of a space, as stored in its `devices` map. */
export interface Member {
  peerId: string
  name: string
  /** Application-defined role, e.g. `phone` or `desktop`. */
  role: string
  pairedAt: number
  pairedBy: string
  revokedAt?: number
  revokedBy?: string
}

/** Name of the top-level Y.Map of a space document that holds its members. */
export const DEVICES_MAP = 'devices'

/** Typed access to a space's `devices` map. */
export class Members {
  readonly map: Y.Map<Y.Map<unknown>>
  private readonly doc: Y.Doc

  constructor (doc: Y.Doc) {
    this.doc = doc
    this.map = doc.getMap(DEVICES_MAP)
  }

  /** Every device ever added, revoked ones included. */
  list (): Member[] {
    const out: Member[] = []
    for (const [peerId, record] of this.map) {
      const member = readMember(peerId, record)
      if (member !== null) out.push(member)
    }
    return out.sort((a, b) => a.pairedAt - b.pairedAt || a.peerId.localeCompare(b.peerId))
  }

  get (peerId: string): Member | null {
    const record = this.map.get(peerId)
    return record instanceof Y.Map ? readMember(peerId, record) : null
  }

  /** A member that has not been revoked. */
  isActive (peerId: string): boolean {
    const member = this.get(peerId)
    return member !== null && member.revokedAt === undefined
  }

  /** A device that was revoked: it stays refused even if someone adds it again by mistake. */
  isRevoked (peerId: string): boolean {
    return this.get(peerId)?.revokedAt !== undefined
  }

  /** Add (or refresh the name and role of) a device. A revoked device is never re-activated. */
  add (member: Omit<Member, 'revokedAt' | 'revokedBy'>, origin: unknown = null): void {
    this.doc.transact(() => {
      let record = this.map.get(member.peerId)
      if (!(record instanceof Y.Map)) {
        record = new Y.Map<unknown>()
        this.map.set(member.peerId, record)
        record.set('pairedAt', member.pairedAt)
        record.set('pairedBy', member.pairedBy)
      }
      if (record.get('revokedAt') !== undefined) return
      record.set('name', member.name)
      record.set('role', member.role)
    }, origin)
  }

  /** Mark a device revoked; the mark spreads to every member. */
  revoke (peerId: string, by: string, at = Date.now(), origin: unknown = null): boolean {
    const record = this.map.get(peerId)
    if (!(record instanceof Y.Map) || record.get('revokedAt') !== undefined) return false
    this.doc.transact(() => {
      record.set('revokedAt', at)
      record.set('revokedBy', by)
    }, origin)
    return true
  }
}

function readMember (peerId: string, record: Y.Map<unknown>): Member | null {
  if (!(record instanceof Y.Map)) return null
  const name = record.get('name')
  const role = record.get('role')
  const pairedAt = record.get('pairedAt')
  const pairedBy = record.get('pairedBy')
  const revokedAt = record.get('revokedAt')
  const revokedBy = record.get('revokedBy')
  return {
    peerId,
    name: typeof name === 'string' ? name : peerId.slice(-8),
    role: typeof role === 'string' ? role : 'unknown',
    pairedAt: typeof pairedAt === 'number' ? pairedAt : 0,
    pairedBy: typeof pairedBy === 'string' ? pairedBy : '',
    ...(typeof revokedAt === 'number' ? { revokedAt } : {}),
    ...(typeof revokedBy === 'string' ? { revokedBy } : {})
  }
}
