// The membership gate of one space on one device: which peers it admits and which are revoked,
// computed only from signed statements (trust/statement.ts) that this device verified, never from
// unsigned fields of the document. Every statement it ever verified is remembered (persisted by
// the space), so a later edit that drops a statement from the document can neither un-revoke a
// device nor widen admission: the gate keeps it, and writes it back for the others.
//
// Admission: this device is the root; a peer is admitted when a chain of valid admissions leads
// to it from here, each signed by a device that may admit (trust/rights.ts) and none revoked.
// Revocation: effective when signed by a device that may revoke the target (itself, the root, an
// admin). Admissions signed by a device that is later revoked count only if they were signed
// before its revocation AND this device had verified them no later than the revocation; anything
// it signs afterwards (or backdates and sends later) is refused. Revoking a device together with
// everything it admitted is one step for the application (`admittedBy`).

import * as Y from 'yjs'
import { ObservableV2 } from 'lib0/observable'
import type { PrivateKey } from '@libp2p/interface'
import { signStatement, verifyStatement } from './statement.ts'
import type { Admission, Revocation, SignedStatement } from './statement.ts'
import { ADMIN, mayAdmit, mayRevoke } from './rights.ts'
import type { Actor } from './rights.ts'

/** Name of the top-level Y.Map that holds a space's statements: signature → body. It only grows. */
export const TRUST_MAP = 'trust'

/** A statement this device verified, and when it first did (its own clock). */
export interface Verified {
  sig: string
  body: string
  seenAt: number
}

/** Where a gate keeps what it verified across restarts (the space persists it in its storage). */
export interface TrustMemory {
  /** Everything remembered so far. */
  readonly remembered: Iterable<Verified>
  remember: (verified: Verified) => void
}

/** Something the gate refused or ignored; `from` is the member whose sync delivered it, when known. */
export interface TrustRefusal {
  /** The peer that sent the update (the author may be another device, see `author`). */
  from: string | undefined
  /** The signer of the statement concerned, when it verified. */
  author?: string
  /** The peer the statement is about, when known. */
  peer?: string
  reason: string
  /** A warning counts against `from`/`author`; a note (an admission by a device without the right) does not. */
  severity: 'warning' | 'note'
}

/** What the gate says about one admitted or formerly admitted peer. */
export interface AdmissionView {
  by: string
  role: string
  rights: string[]
  at: number
}

export interface RevocationView {
  by: string
  at: number
}

export interface TrustGateEvents {
  /** Admitted or revoked peers changed. */
  change: () => void
  refused: (refusal: TrustRefusal) => void
}

/** This operation needs the right it names, which this device lacks here. */
export class PermissionDeniedError extends Error {
  name = 'PermissionDeniedError'
}

export interface TrustGateOptions {
  /** This device's key: it signs this device's statements. Without it the gate is read-only and admits nobody. */
  key?: PrivateKey
  self?: string
  memory?: TrustMemory
  now?: () => number
}

interface Actors {
  /** Every peer reached by a valid chain, revoked ones included (their earlier admissions may count). */
  actors: Map<string, AdmissionView>
  revoked: Map<string, RevocationView & { seenAt: number }>
  /** Signatures of the revocations that took effect. */
  effective: Set<string>
}

const ROOT: Actor = { root: true, rights: [ADMIN] }
const NOBODY: Actor = { root: false, rights: [] }

/** The signed-membership gate of one space. */
export class TrustGate extends ObservableV2<TrustGateEvents> {
  readonly self: string | null
  readonly map: Y.Map<unknown>
  private readonly doc: Y.Doc
  private readonly space: string
  private readonly key: PrivateKey | undefined
  private readonly memory: TrustMemory | undefined
  private readonly now: () => number
  private readonly verified = new Map<string, { signed: SignedStatement, seenAt: number }>()
  private state: Actors = { actors: new Map(), revoked: new Map(), effective: new Set() }
  private admitted = new Map<string, AdmissionView>()

  constructor (doc: Y.Doc, space: string, options: TrustGateOptions = {}) {
    super()
    this.doc = doc
    this.space = space
    this.key = options.key
    this.self = options.self ?? null
    this.memory = options.memory
    this.now = options.now ?? Date.now
    this.map = doc.getMap(TRUST_MAP)
    for (const v of options.memory?.remembered ?? []) {
      const signed = verifyStatement(v.sig, v.body)
      if (signed !== null && signed.statement.space === space) this.verified.set(v.sig, { signed, seenAt: v.seenAt })
    }
    const fresh: SignedStatement[] = []
    for (const [sig, body] of this.map) {
      const found = this.take(sig, body, undefined)
      if (found !== null) fresh.push(found)
    }
    this.recompute(fresh, undefined, false)
    this.restoreDropped(undefined)
    this.map.observe(this.onChange)
  }

  destroy (): void {
    this.map.unobserve(this.onChange)
    super.destroy()
  }

  /** Is `peer` admitted here (this device, or a valid unrevoked chain from it)? */
  admits (peer: string): boolean {
    return peer === this.self ? this.self !== null : this.admitted.has(peer)
  }

  isRevoked (peer: string): boolean {
    return this.state.revoked.has(peer)
  }

  admission (peer: string): AdmissionView | undefined {
    return this.state.actors.get(peer)
  }

  revocation (peer: string): RevocationView | undefined {
    const r = this.state.revoked.get(peer)
    return r === undefined ? undefined : { by: r.by, at: r.at }
  }

  /** Peers admitted here through an admission `by` signed (for `revoke --with-admitted` and `devices`). */
  admittedBy (by: string): string[] {
    return [...this.state.actors].filter(([, a]) => a.by === by).map(([peer]) => peer)
  }

  /** Every peer the gate knows a verdict for: admitted ones and revoked ones. */
  known (): string[] {
    return [...new Set([...this.state.actors.keys(), ...this.state.revoked.keys()])]
  }

  /** Sign and publish "this device admits `peer` as `role` with `rights`". */
  admit (peer: string, role: string, rights: string[] = [], at = this.now(), origin: unknown = null): void {
    if (this.key === undefined || this.self === null) throw new PermissionDeniedError('this space was opened without a device key: it cannot admit anyone')
    if (!mayAdmit(ROOT)) throw new PermissionDeniedError('may not admit')
    this.publish(signStatement(this.key, { kind: 'admit', space: this.space, by: this.self, peer, role, rights, at } satisfies Admission), origin)
  }

  /** Sign and publish "this device revokes `peer`". False when it is revoked already. */
  revoke (peer: string, at = this.now(), origin: unknown = null): boolean {
    if (this.key === undefined || this.self === null) throw new PermissionDeniedError('this space was opened without a device key: it cannot revoke anyone')
    if (this.state.revoked.has(peer)) return false
    this.publish(signStatement(this.key, { kind: 'revoke', space: this.space, by: this.self, peer, at } satisfies Revocation), origin)
    return true
  }

  private publish (signed: SignedStatement, origin: unknown): void {
    // Verified on the way in by the observer like any other statement; our own key is a valid author.
    this.doc.transact(() => { this.map.set(signed.sig, signed.body) }, origin)
  }

  private readonly onChange = (event: Y.YMapEvent<unknown>): void => {
    const from = deliveredBy(event.transaction.origin)
    const fresh: SignedStatement[] = []
    for (const sig of event.keysChanged) {
      const found = this.take(sig, this.map.get(sig), from)
      if (found !== null) fresh.push(found)
    }
    this.recompute(fresh, from, true)
    this.restoreDropped(from)
  }

  /** Verify and remember a statement found in the map; report what does not verify. */
  private take (sig: string, body: unknown, from: string | undefined): SignedStatement | null {
    if (this.verified.has(sig)) return null
    if (body === undefined) return null
    const signed = verifyStatement(sig, body)
    if (signed === null || signed.statement.space !== this.space) {
      this.emit('refused', [{ from, reason: 'a membership statement with no valid signature (ignored)', severity: 'warning' }])
      return null
    }
    const seenAt = this.now()
    this.verified.set(sig, { signed, seenAt })
    this.memory?.remember({ sig, body: signed.body, seenAt })
    return signed
  }

  /** A statement this gate verified went missing or changed in the document: put it back. */
  private restoreDropped (from: string | undefined): void {
    const dropped = [...this.verified.values()].filter(v => this.map.get(v.signed.sig) !== v.signed.body)
    if (dropped.length === 0) return
    for (const v of dropped) {
      this.emit('refused', [{ from, author: v.signed.statement.by, peer: v.signed.statement.peer, reason: `an attempt to remove a signed ${v.signed.statement.kind === 'admit' ? 'admission' : 'revocation'} (kept, and written back)`, severity: 'warning' }])
    }
    // Not inside the observer's transaction: Yjs runs a transaction started here after this one.
    queueMicrotask(() => {
      this.doc.transact(() => { for (const v of dropped) if (this.map.get(v.signed.sig) !== v.signed.body) this.map.set(v.signed.sig, v.signed.body) }, this)
    })
  }

  private recompute (fresh: SignedStatement[], from: string | undefined, report: boolean): void {
    const before = this.admitted
    const revokedBefore = this.state.revoked
    this.state = this.evaluate()
    this.admitted = new Map([...this.state.actors].filter(([peer]) => !this.state.revoked.has(peer)))
    if (report) {
      for (const s of fresh) {
        const st = s.statement
        if (st.kind === 'revoke' && !this.state.effective.has(s.sig)) {
          this.emit('refused', [{ from, author: st.by, peer: st.peer, reason: `a revocation signed by a device that may not revoke ${st.peer === this.self ? 'this device' : 'it'} (ignored)`, severity: 'warning' }])
        } else if (st.kind === 'admit' && st.peer !== this.self && !this.state.actors.has(st.peer)) {
          const revokedAdmitter = this.state.revoked.has(st.by)
          this.emit('refused', [{
            from,
            author: st.by,
            peer: st.peer,
            reason: revokedAdmitter ? 'an admission signed by a revoked device after its revocation (refused)' : 'an admission signed by a device without the admin right here (not admitted by this device)',
            severity: revokedAdmitter ? 'warning' : 'note'
          }])
        }
      }
    }
    if (!sameKeys(before, this.admitted) || !sameKeys(revokedBefore, this.state.revoked)) this.emit('change', [])
  }

  private evaluate (): Actors {
    const all = [...this.verified.values()]
    const admissions = all.filter(v => v.signed.statement.kind === 'admit')
      // The root's own admissions first, then the most recent: they decide a peer's role and rights.
      .sort((a, b) => Number(b.signed.statement.by === this.self) - Number(a.signed.statement.by === this.self) || b.signed.statement.at - a.signed.statement.at)
    const revocations = all.filter(v => v.signed.statement.kind === 'revoke')
    const revoked = new Map<string, RevocationView & { seenAt: number }>()
    const effective = new Set<string>()
    let actors = this.chain(admissions, revoked)
    // Revocations only ever add up: iterate until no further revocation becomes effective.
    for (;;) {
      let grew = false
      for (const v of revocations) {
        if (effective.has(v.signed.sig)) continue
        const r = v.signed.statement
        const known = actors.get(r.by)
        const actor: Actor = r.by === this.self ? ROOT : known !== undefined ? { root: false, rights: known.rights } : NOBODY
        if (!mayRevoke(actor, r.by, r.peer)) continue
        effective.add(v.signed.sig)
        const current = revoked.get(r.peer)
        if (current === undefined || r.at < current.at) revoked.set(r.peer, { by: r.by, at: r.at, seenAt: v.seenAt })
        grew = true
      }
      if (!grew) break
      actors = this.chain(admissions, revoked)
    }
    return { actors, revoked, effective }
  }

  private chain (admissions: Array<{ signed: SignedStatement, seenAt: number }>, revoked: Map<string, { at: number, seenAt: number }>): Map<string, AdmissionView> {
    const actors = new Map<string, AdmissionView & { actor: Actor }>()
    if (this.self === null) return actors
    for (let grew = true; grew;) {
      grew = false
      for (const v of admissions) {
        const s = v.signed.statement as Admission
        if (s.peer === this.self || actors.has(s.peer)) continue
        const actor = s.by === this.self ? ROOT : actors.get(s.by)?.actor
        if (actor === undefined || !mayAdmit(actor)) continue
        const fallen = s.by === this.self ? undefined : revoked.get(s.by)
        if (fallen !== undefined && !(s.at < fallen.at && v.seenAt <= fallen.seenAt)) continue
        actors.set(s.peer, { by: s.by, role: s.role, rights: s.rights, at: s.at, actor: { root: false, rights: s.rights } })
        grew = true
      }
    }
    return new Map([...actors].map(([peer, { by, role, rights, at }]) => [peer, { by, role, rights, at }]))
  }
}

/** The member whose sync session applied a transaction (sessions are their updates' origin). */
function deliveredBy (origin: unknown): string | undefined {
  if (typeof origin !== 'object' || origin === null || !('remote' in origin)) return undefined
  const remote = (origin as { remote: unknown }).remote
  return typeof remote === 'string' ? remote : undefined
}

function sameKeys (a: Map<string, unknown>, b: Map<string, unknown>): boolean {
  if (a.size !== b.size) return false
  for (const k of a.keys()) if (!b.has(k)) return false
  return true
}
