// The pairing protocol on /dispatch/pair/1.0.0: the desktop side (`PairingService`: open
// invites, check proofs, confirm, add the phone) and the phone side (`acceptInvite`).
//
//   phone -> desktop  {type:'claim', phone, nonce, proof, name, role}   proof = HMAC(secret, phone, desktop, nonce)
//   desktop -> phone  {type:'accepted', name, role} | {type:'refused', code, message}
//   (both show the other's name and the same verification code; each person confirms)
//   phone -> desktop  {type:'confirm', ok}
//   desktop -> phone  {type:'paired'} | {type:'refused', code:'declined', message}
//
// One JSON message per frame, frames capped at PAIR_MAX_FRAME_BYTES, every step timed out.

import { ObservableV2 } from 'lib0/observable'
import { base64url } from 'multiformats/bases/base64'
import { RateLimiter } from '@libp2p/utils'
import type { Connection, Stream } from '@libp2p/interface'
import {
  DIAL_TIMEOUT_MS, PAIR_PROTOCOL, PAIR_MAX_FRAME_BYTES, PAIR_STEP_TIMEOUT_MS, PAIR_CONFIRM_TIMEOUT_MS, PAIR_REFUSAL_GRACE_MS,
  PAIR_FAILURES_PER_PEER, PAIR_FAILURES_TOTAL, PAIR_FAILURE_WINDOW_S
} from '../constants.ts'
import { StreamChannel } from '../net/stream-channel.ts'
import { dialDirectFirst } from '../net/direct-first-dial.ts'
import { isLoopbackAddr, isRelayedAddr, transportOf } from '../net/multiaddrs.ts'
import type { SyncNode } from '../node.ts'
import type { Space } from '../space.ts'
import type { Member } from '../members.ts'
import { ADMIN } from '../trust/rights.ts'
import {
  mintInvite, encodeInvite, decodeInvite, assertInviteUsable, inviteProof, verifyInviteProof, verificationCode,
  InviteExpiredError, DEFAULT_INVITE_TTL_MS
} from './invite.ts'
import type { Invite } from './invite.ts'

/** The invite was already used by another device. */
export class InviteReusedError extends Error {
  name = 'InviteReusedError'
}

/** The proof does not match any invite the desktop has open. */
export class WrongSecretError extends Error {
  name = 'WrongSecretError'
}

/** A valid proof, but made for another device identity than the one presenting it (a replay). */
export class ProofForAnotherDeviceError extends Error {
  name = 'ProofForAnotherDeviceError'
}

/** The desktop has no invite open. */
export class NoOpenInviteError extends Error {
  name = 'NoOpenInviteError'
}

/** Too many failed attempts recently; try again later. */
export class PairingRateLimitedError extends Error {
  name = 'PairingRateLimitedError'
}

/** One of the two people did not confirm (or did not answer in time). */
export class PairingDeclinedError extends Error {
  name = 'PairingDeclinedError'
}

/** The desktop could not be reached (offline, wrong network, or its gate closed). */
export class PairingUnreachableError extends Error {
  name = 'PairingUnreachableError'
}

/** The other side broke the protocol (malformed message, timeout, stream closed). */
export class PairingProtocolError extends Error {
  name = 'PairingProtocolError'
}

/** The role recorded when the application names none: the engine has no roles of its own. */
const DEFAULT_ROLE = 'member'

type RefusalCode = 'reused' | 'expired' | 'wrong-secret' | 'other-device' | 'no-invite' | 'rate-limited' | 'declined' | 'protocol'

const REFUSALS: Record<RefusalCode, { error: new (message: string) => Error, message: string }> = {
  reused: { error: InviteReusedError, message: 'this invite was already used by another device; ask for a new invite' },
  expired: { error: InviteExpiredError, message: 'this invite has expired; ask for a new invite' },
  'wrong-secret': { error: WrongSecretError, message: 'wrong invite secret: this invite does not match any invite the inviting device has open' },
  'other-device': { error: ProofForAnotherDeviceError, message: 'refused: this pairing proof was made for another device (a replayed proof)' },
  'no-invite': { error: NoOpenInviteError, message: 'the inviting device has no open invite; open one there first' },
  'rate-limited': { error: PairingRateLimitedError, message: 'too many failed pairing attempts; wait a minute and try again' },
  declined: { error: PairingDeclinedError, message: 'pairing was not confirmed' },
  protocol: { error: PairingProtocolError, message: 'pairing failed: the other side broke the protocol' }
}

/** What each side is shown before its person confirms. */
export interface PairingPrompt {
  /** The other device. */
  peerId: string
  name: string
  /** Six digits, the same on both screens. */
  code: string
}

/** Asks the person to compare the code and confirm; resolves true to pair. */
export type ConfirmPairing = (prompt: PairingPrompt) => Promise<boolean> | boolean

/** Options of `PairingService.openInvite`. */
export interface OpenInviteOptions {
  ttlMs?: number
  /** Addresses to put in the invite; the node's own by default (LAN first, loopback last). */
  addrs?: string[]
  /** Asked once a phone proved the secret; accepts when omitted (`--yes`). */
  confirm?: ConfirmPairing
}

/** An invite a `PairingService` holds open: its text to show, and `paired`, which resolves with the new member. */
export interface OpenInvite {
  id: string
  /** The one line to show or encode as a QR. Contains the secret: show it, never log it. */
  text: string
  invite: Invite
  expiresAt: number
  /** Resolves with the new member once paired; rejects with `InviteExpiredError` at expiry or on `cancel`. */
  paired: Promise<Member>
  cancel (): void
}

/** Options of `PairingService`. */
export interface PairingServiceOptions {
  /** This device's name, as shown to the devices that pair with it. */
  name: string
  /** This device's role, told to the devices that pair with it (application-defined; default 'member'). */
  role?: string
  /** Role recorded for the devices that pair with it (application-defined; default 'member'). */
  peerRole?: string
  /** Rights its signed admission grants the devices that pair with it (core/trust/rights.ts; default none). */
  peerRights?: string[]
  now?: () => number
}

export interface PairingServiceEvents {
  /** Someone proved an invite; `prompt.code` is what the person compares. */
  'confirm-needed': (inviteId: string, prompt: PairingPrompt) => void
  paired: (inviteId: string, member: Member) => void
  /** An attempt failed; `code` is one of the refusal codes (never the secret). */
  refused: (peerId: string, code: string) => void
}

interface HeldInvite {
  open: OpenInvite
  secret: Uint8Array
  spent: boolean
  confirm: ConfirmPairing | undefined
  resolve: (member: Member) => void
  reject: (error: Error) => void
  timer: ReturnType<typeof setTimeout>
}

let nextInviteId = 1

/** The desktop side: opens invites on a node and pairs the phones that prove one into `space`. */
export class PairingService extends ObservableV2<PairingServiceEvents> {
  readonly node: SyncNode
  readonly space: Space
  name: string
  private readonly role: string
  private readonly peerRole: string
  private readonly peerRights: string[]
  private readonly now: () => number
  private readonly invites = new Map<string, HeldInvite>()
  private readonly perPeer = new RateLimiter({ points: PAIR_FAILURES_PER_PEER, duration: PAIR_FAILURE_WINDOW_S, keyPrefix: 'peer' })
  private readonly total = new RateLimiter({ points: PAIR_FAILURES_TOTAL, duration: PAIR_FAILURE_WINDOW_S, keyPrefix: 'all' })
  private started = false
  private removeGate: (() => void) | null = null

  constructor (node: SyncNode, space: Space, options: PairingServiceOptions) {
    super()
    this.node = node
    this.space = space
    this.name = options.name
    this.role = options.role ?? DEFAULT_ROLE
    this.peerRole = options.peerRole ?? DEFAULT_ROLE
    this.peerRights = options.peerRights ?? []
    this.now = options.now ?? Date.now
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    // Strangers get past the node's connection gate only while an invite window is open.
    this.removeGate = this.node.addStrangerGate(peerId => this.admitsStranger(peerId))
    await this.node.libp2p.handle(PAIR_PROTOCOL, (stream, connection) => { void this.serve(stream, connection) }, { runOnLimitedConnection: true })
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.removeGate?.()
    this.removeGate = null
    for (const held of this.invites.values()) { clearTimeout(held.timer); held.reject(new InviteExpiredError('pairing stopped')) }
    this.invites.clear()
    // Unhandle fails only while libp2p itself is stopping, which removes every handler anyway.
    if (!this.node.stopped) await this.node.libp2p.unhandle(PAIR_PROTOCOL).catch(() => {})
    super.destroy()
  }

  /**
   * The stranger gate this service registers on the node: true while some invite's window is open (its lifetime,
   * plus a short grace so a late or second use is told why instead of being dropped).
   */
  admitsStranger (peerId?: string): boolean {
    // A revoked device is no stranger: it stays refused at the gate, invite or not.
    if (peerId !== undefined && this.space.members.isRevoked(peerId)) return false
    const now = this.now()
    for (const held of this.invites.values()) if (now < held.open.expiresAt + PAIR_REFUSAL_GRACE_MS) return true
    return false
  }

  /** Is there an invite that can still be used? */
  hasOpenInvite (): boolean {
    const now = this.now()
    for (const held of this.invites.values()) if (!held.spent && now < held.open.expiresAt) return true
    return false
  }

  openInvite (options: OpenInviteOptions = {}): OpenInvite {
    const addrs = options.addrs ?? inviteAddrs(this.node.addrs())
    const { invite, secret } = mintInvite({ addrs, name: this.name, ttlMs: options.ttlMs ?? DEFAULT_INVITE_TTL_MS, now: this.now() })
    const id = String(nextInviteId++)
    let resolve!: (member: Member) => void
    let reject!: (error: Error) => void
    const paired = new Promise<Member>((res, rej) => { resolve = res; reject = rej })
    // Callers that never await `paired` (an invite left to expire) must not raise an unhandled rejection; those who do see it.
    paired.catch(() => {})
    const open: OpenInvite = {
      id,
      text: encodeInvite(invite),
      invite,
      expiresAt: invite.expiresAt,
      paired,
      cancel: () => { this.expire(id, 'invite cancelled') }
    }
    const timer = setTimeout(() => { this.expire(id) }, Math.max(0, invite.expiresAt - this.now()))
    timer.unref()
    this.invites.set(id, { open, secret, spent: false, confirm: options.confirm, resolve, reject, timer })
    return open
  }

  /** Unused invite at expiry: fail its waiter; keep it a while to explain refusals. */
  private expire (id: string, why?: string): void {
    const held = this.invites.get(id)
    if (held === undefined) return
    clearTimeout(held.timer)
    if (!held.spent) held.reject(new InviteExpiredError(why ?? `invite expired at ${new Date(held.open.expiresAt).toISOString()} without being used`))
    if (why !== undefined) held.open.expiresAt = Math.min(held.open.expiresAt, this.now())
    const drop = setTimeout(() => {
      const current = this.invites.get(id)
      if (current !== undefined && this.now() >= current.open.expiresAt + PAIR_REFUSAL_GRACE_MS) this.invites.delete(id)
    }, PAIR_REFUSAL_GRACE_MS + 1000)
    drop.unref()
  }

  /** One pairing stream. Never throws: a failure is a refusal sent back, or a reset stream. */
  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const remote = connection.remotePeer.toString()
    const channel = new StreamChannel(stream, { maxFrameBytes: PAIR_MAX_FRAME_BYTES, maxMessageBytes: PAIR_MAX_FRAME_BYTES })
    const refuse = (code: RefusalCode): void => {
      this.emit('refused', [remote, code])
      channel.send(encodeMessage({ type: 'refused', code, message: REFUSALS[code].message }))
      channel.close()
    }
    try {
      if (this.limited(remote)) { refuse('rate-limited'); return }
      const claim = readClaim(await channel.firstMessage(PAIR_STEP_TIMEOUT_MS))
      const outcome = await this.check(claim, remote)
      if (typeof outcome === 'string') {
        this.fail(remote)
        refuse(outcome)
        return
      }
      const held = outcome
      // Spent on first successful proof, before anyone confirms: a race of two phones has one winner.
      held.spent = true
      channel.send(encodeMessage({ type: 'accepted', name: this.name, role: this.role }))
      const code = await verificationCode(held.secret, remote, this.node.peerId)
      const prompt: PairingPrompt = { peerId: remote, name: claim.name, code }
      this.emit('confirm-needed', [held.open.id, prompt])
      const theirs = channel.firstMessage(PAIR_CONFIRM_TIMEOUT_MS).then(readConfirm)
      const mine = withTimeout(Promise.resolve(held.confirm?.(prompt) ?? true), PAIR_CONFIRM_TIMEOUT_MS, false)
      // A "no" from either side ends it at once; a "yes" waits for the other.
      const both = await new Promise<boolean>((resolve, reject) => {
        let yes = 0
        const one = (ok: boolean): void => { if (!ok) resolve(false); else if (++yes === 2) resolve(true) }
        mine.then(one, reject)
        theirs.then(one, reject)
      })
      if (!both) {
        const mineOk = await Promise.race([mine, Promise.resolve(true)])
        refuse('declined')
        held.reject(new PairingDeclinedError(mineOk ? `${claim.name} did not confirm pairing` : 'pairing was not confirmed here'))
        return
      }
      this.space.members.add({ peerId: remote, name: claim.name, role: this.peerRole, rights: this.peerRights, pairedAt: this.now(), pairedBy: this.node.peerId })
      await this.space.flush()
      channel.send(encodeMessage({ type: 'paired' }))
      channel.close()
      const member = this.space.members.get(remote) as Member
      clearTimeout(held.timer)
      held.resolve(member)
      this.emit('paired', [held.open.id, member])
    } catch (err) {
      this.fail(remote)
      this.emit('refused', [remote, 'protocol'])
      channel.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** Which invite this claim proves, or why it is refused. */
  private async check (claim: Claim, remote: string): Promise<HeldInvite | RefusalCode> {
    const now = this.now()
    for (const held of this.invites.values()) {
      if (!await verifyInviteProof(held.secret, claim.phone, this.node.peerId, claim.proof, claim.nonce)) continue
      if (claim.phone !== remote) return 'other-device'
      if (held.spent) return 'reused'
      if (now >= held.open.expiresAt) return 'expired'
      return held
    }
    return this.hasOpenInvite() ? 'wrong-secret' : 'no-invite'
  }

  private limited (peer: string): boolean {
    return (this.perPeer.get(peer)?.consumedPoints ?? 0) >= PAIR_FAILURES_PER_PEER ||
      (this.total.get('all')?.consumedPoints ?? 0) >= PAIR_FAILURES_TOTAL
  }

  private fail (peer: string): void {
    this.perPeer.penalty(peer)
    this.total.penalty('all')
  }
}

/** Options of `acceptInvite`. */
export interface AcceptInviteOptions {
  /** This device's name, shown to the desktop. */
  name: string
  /** This device's role, sent to the inviting device (application-defined; default 'member'). */
  role?: string
  /** Role recorded here for the inviting device; by default the role it says it has. */
  peerRole?: string
  /**
   * Rights this device's signed admission grants the inviting device (default `['admin']`: the
   * device you chose to pair with may admit and revoke members for you; see core/trust/rights.ts).
   */
  peerRights?: string[]
  /** Asked once the desktop accepted the proof; accepts when omitted (`--yes`). */
  confirm?: ConfirmPairing
  signal?: AbortSignal
  now?: () => number
}

/** What `acceptInvite` learnt: the desktop's peer id, name, addresses and the verification code. */
export interface AcceptedInvite {
  peerId: string
  name: string
  code: string
  addrs: string[]
}

/**
 * The phone side: dial the desktop of `invite`, prove the secret, confirm, and record the
 * desktop as a member of `space`. Throws one of this module's named errors on refusal.
 */
export async function acceptInvite (node: SyncNode, space: Space, invite: string | Invite, options: AcceptInviteOptions): Promise<AcceptedInvite> {
  const parsed = typeof invite === 'string' ? decodeInvite(invite) : invite
  const now = options.now ?? Date.now
  assertInviteUsable(parsed, now())
  const self = node.peerId
  let stream: Stream
  try {
    // The invite's direct addresses first, its relayed ones after RELAY_FALLBACK_MS: a phone away
    // from home does not wait 5 s on each of the desktop's unreachable LAN addresses.
    const signal = anySignal(AbortSignal.timeout(DIAL_TIMEOUT_MS), options.signal)
    const connection = await dialDirectFirst(node.libp2p, parsed.addrs.map(a => a.toString()), signal)
    stream = await connection.newStream(PAIR_PROTOCOL, { signal, runOnLimitedConnection: true })
  } catch (err) {
    throw new PairingUnreachableError(describePairDialFailure(parsed.name, err))
  }
  const channel = new StreamChannel(stream, { maxFrameBytes: PAIR_MAX_FRAME_BYTES, maxMessageBytes: PAIR_MAX_FRAME_BYTES })
  try {
    const nonce = crypto.getRandomValues(new Uint8Array(16))
    const proof = await inviteProof(parsed.secret, self, parsed.peerId, nonce)
    channel.send(encodeMessage({ type: 'claim', phone: self, nonce: base64url.encode(nonce), proof: base64url.encode(proof), name: options.name, role: options.role ?? DEFAULT_ROLE }))
    const answer = await nextMessage(channel, PAIR_STEP_TIMEOUT_MS)
    if (answer.type !== 'accepted' || typeof answer.name !== 'string') throw new PairingProtocolError('pairing failed: unexpected answer from the inviting device')
    const name = answer.name.slice(0, 64)
    const code = await verificationCode(parsed.secret, self, parsed.peerId)
    const ok = await withTimeout(Promise.resolve(options.confirm?.({ peerId: parsed.peerId, name, code }) ?? true), PAIR_CONFIRM_TIMEOUT_MS, false)
    channel.send(encodeMessage({ type: 'confirm', ok }))
    if (!ok) throw new PairingDeclinedError('pairing was not confirmed here')
    const done = await nextMessage(channel, PAIR_CONFIRM_TIMEOUT_MS + PAIR_STEP_TIMEOUT_MS)
    if (done.type !== 'paired') throw new PairingProtocolError('pairing failed: unexpected answer from the inviting device')
    const role = options.peerRole ?? (typeof answer.role === 'string' ? cleanName(answer.role).slice(0, 32) : DEFAULT_ROLE)
    space.members.add({ peerId: parsed.peerId, name, role, rights: options.peerRights ?? [ADMIN], pairedAt: now(), pairedBy: self })
    await space.flush()
    return { peerId: parsed.peerId, name, code, addrs: parsed.addrs.map(a => a.toString()) }
  } finally {
    channel.close()
  }
}

/** Reads one message; a refusal becomes its named error. */
async function nextMessage (channel: StreamChannel, timeoutMs: number): Promise<Record<string, unknown>> {
  let bytes: Uint8Array
  try {
    bytes = await channel.firstMessage(timeoutMs)
  } catch (err) {
    throw new PairingProtocolError(`pairing failed: ${firstLine(err)}`)
  }
  const message = decodeMessage(bytes)
  if (message.type === 'refused') {
    const code = typeof message.code === 'string' && Object.hasOwn(REFUSALS, message.code) ? message.code as RefusalCode : 'protocol'
    const { error, message: text } = REFUSALS[code]
    throw new error(code === 'declined' ? 'the inviting device did not confirm pairing' : text)
  }
  return message
}

interface Claim { phone: string, nonce: Uint8Array, proof: Uint8Array, name: string }

function readClaim (bytes: Uint8Array): Claim {
  const m = decodeMessage(bytes)
  if (m.type !== 'claim' || typeof m.phone !== 'string' || typeof m.nonce !== 'string' || typeof m.proof !== 'string' || typeof m.name !== 'string') {
    throw new PairingProtocolError('malformed claim')
  }
  if (m.phone.length > 128 || m.nonce.length > 64 || m.proof.length > 128) throw new PairingProtocolError('oversized claim field')
  return { phone: m.phone, nonce: base64url.decode(m.nonce), proof: base64url.decode(m.proof), name: cleanName(m.name) }
}

function readConfirm (bytes: Uint8Array): boolean {
  const m = decodeMessage(bytes)
  if (m.type !== 'confirm') throw new PairingProtocolError('expected a confirmation')
  return m.ok === true
}

function encodeMessage (message: Record<string, unknown>): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message))
}

function decodeMessage (bytes: Uint8Array): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new PairingProtocolError('pairing message is not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PairingProtocolError('pairing message is not an object')
  return value as Record<string, unknown>
}

/** Names are shown on screens: printable, short. */
function cleanName (name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 64)
  return clean === '' ? 'unnamed device' : clean
}

/** LAN addresses first, loopback next, relay (`/p2p-circuit`) last; at most what an invite carries. */
export function inviteAddrs (addrs: string[]): string[] {
  // Relay addresses come after the direct ones, and always keep a place in the invite: one per
  // transport to the relay first (so a browser's WebRTC-direct or WSS path is not crowded out by
  // TCP ones), the relay's loopback addresses last.
  const direct = addrs.filter(a => !isRelayedAddr(a))
  const relayed = addrs.filter(a => isRelayedAddr(a))
  const circuits = oneOfEachFirst([...relayed.filter(a => !isLoopbackAddr(a)), ...relayed.filter(a => isLoopbackAddr(a))]).slice(0, 3)
  return [...direct.filter(a => !isLoopbackAddr(a)), ...direct.filter(a => isLoopbackAddr(a))].slice(0, 8 - circuits.length).concat(circuits)
}

/** `addrs` reordered: the first of each transport, in order, then the rest, in order. */
function oneOfEachFirst (addrs: string[]): string[] {
  const seen = new Set<string>()
  const first = addrs.filter(a => { const t = transportOf(a); if (seen.has(t)) return false; seen.add(t); return true })
  return [...first, ...addrs.filter(a => !first.includes(a))]
}

async function withTimeout<T> (promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([promise, new Promise<T>(resolve => { timer = setTimeout(() => resolve(fallback), ms) })])
  } finally {
    clearTimeout(timer)
  }
}

function anySignal (a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
  return b === undefined ? a : AbortSignal.any([a, b])
}

/**
 * Why the dial to the inviting device failed, for a person. A gate that refuses the connection
 * (this device was revoked there, or no invite is open) ends it with an `Event`, not an Error.
 */
function describePairDialFailure (name: string, err: unknown): string {
  const text = firstLine(err)
  if (err instanceof Error && /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|timed out|aborted|no valid addresses/i.test(`${err.name} ${text}`)) {
    return `could not reach "${name}" to pair (${text}); is it running, and is it reachable from here?`
  }
  return `"${name}" refused the connection: this device was revoked there, or its invite is no longer open; ask for a new invite`
}

function firstLine (err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0]
  // An Event (a closed or reset connection) says only its type.
  if (typeof Event !== 'undefined' && err instanceof Event) return `connection ${err.type}`
  return String(err).split('\n')[0]
}
