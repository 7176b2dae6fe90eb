// Where a desktop can be dialled right now, published by the desktop in its own `devices` entry,
// signed with its key: whoever holds a copy of the space learns the newest addresses (also ones
// identify never told it, such as a relay slot taken while it was away), and never dials an
// address someone else wrote in that entry.

import * as Y from 'yjs'
import type { Space, SyncNode } from '../../core/browser.ts'
import { verifyRecord } from '../../core/trust/statement.ts'

/** Signing domain of published addresses (see core `signRecord`). */
export const ADDRS_DOMAIN = 'dispatch-addrs/1'
/** Fields of a device's entry in the `devices` map: the signed body, and its signature. */
const ADDRS_FIELD = 'addrs'
const ADDRS_SIG_FIELD = 'addrsSig'

/** The signed body: the addresses (each ending in /p2p/<peerId>) and when they were published. */
export interface PublishedAddrs {
  addrs: string[]
  at: number
}

/** Write `addrs` into this device's own entry (only when they changed). */
export function publishAddrs (space: Space, self: string, addrs: string[], at = Date.now()): boolean {
  const record = space.members.map.get(self)
  if (!(record instanceof Y.Map)) return false
  const current = readPublishedAddrs(space, self)
  if (current !== null && current.addrs.join('\n') === addrs.join('\n')) return false
  const body = JSON.stringify({ addrs, at } satisfies PublishedAddrs)
  const sig = space.sign(ADDRS_DOMAIN, body)
  space.doc.transact(() => {
    record.set(ADDRS_FIELD, body)
    record.set(ADDRS_SIG_FIELD, sig)
  })
  return true
}

/** The signed record as `peerId` wrote it in its own entry (body and signature, unchecked); null when there is none. */
export function signedAddrsOf (space: Space, peerId: string): SignedAddrs | null {
  const record = space.members.map.get(peerId)
  if (!(record instanceof Y.Map)) return null
  const body = record.get(ADDRS_FIELD)
  const sig = record.get(ADDRS_SIG_FIELD)
  return typeof body === 'string' && typeof sig === 'string' ? { peerId, body, sig } : null
}

/** A published-addresses record as it travels outside the space (a desktop's web server hands it to its page). */
export interface SignedAddrs {
  peerId: string
  body: string
  sig: string
}

/** The addresses in `record`, when `record.peerId` signed it; null otherwise (only addresses ending in its own /p2p/ are kept). */
export function verifySignedAddrs (record: SignedAddrs): PublishedAddrs | null {
  const { peerId, body, sig } = record
  if (!verifyRecord(peerId, ADDRS_DOMAIN, body, sig)) return null
  try {
    const parsed = JSON.parse(body) as { addrs?: unknown, at?: unknown }
    if (!Array.isArray(parsed.addrs) || typeof parsed.at !== 'number') return null
    const suffix = `/p2p/${peerId}`
    return { addrs: parsed.addrs.filter((a): a is string => typeof a === 'string' && a.endsWith(suffix)), at: parsed.at }
  } catch {
    return null
  }
}

/** The addresses `peerId` published, when its signature holds; null otherwise. */
export function readPublishedAddrs (space: Space, peerId: string): PublishedAddrs | null {
  const record = signedAddrsOf(space, peerId)
  return record === null ? null : verifySignedAddrs(record)
}

/** Publish `node`'s addresses now and whenever they change (new listener, relay slot), until it stops. */
export function keepAddrsPublished (space: Space, node: SyncNode): void {
  const publish = (): void => {
    // A listener on the network path never throws: a failure here only delays the next publication.
    // Listening nowhere (a short-lived verb): nothing to say, and the last list stays.
    const addrs = node.addrs()
    if (addrs.length === 0) return
    try { publishAddrs(space, node.peerId, addrs) } catch (err) { console.warn(`dispatch: could not publish this device's addresses (${(err as Error).message})`) }
  }
  publish()
  node.libp2p.addEventListener('self:peer:update', publish)
  // Pairing can replace this device's own entry: the new device writes an entry for it before the
  // two have synced, and of two maps set at one key at once Yjs keeps one. Whichever entry won
  // gets the addresses back (publishAddrs writes nothing when they are there already).
  space.members.map.observe(event => { if (event.keysChanged.has(node.peerId)) publish() })
}
