// The last known multiaddrs of each peer a node keeps connected (its members), so a restarted
// device finds them again without a new invite. Fed by invites (`connect`), identify and mDNS;
// persisted through an `AddressBookStore`: a JSON file in Node, IndexedDB in a browser.

import { directFirst, isRelayedAddr } from './multiaddrs.ts'

/** Addresses kept per peer: the most recently seen first. */
export const ADDRESS_BOOK_MAX_ADDRS = 16
/** Of those, at most this many relayed ones, and never pushed out by direct ones. */
export const ADDRESS_BOOK_MAX_RELAYED = 4
/** Changes within this long are written together. */
const SAVE_DELAY_MS = 200

export interface AddressBookEntry {
  /** Multiaddrs ending in `/p2p/<peerId>`, direct ones first. */
  addrs: string[]
  seenAt: number
}

export type AddressBookEntries = Record<string, AddressBookEntry>

/** Where an `AddressBook` keeps its entries between runs (`addressBookFile` in Node, `indexedDbAddressBook` in a browser). */
export interface AddressBookStore {
  load (): Promise<AddressBookEntries>
  /** Replace what is stored with `entries`; resolves once durable. */
  save (entries: AddressBookEntries): Promise<void>
}

/** The stored address book is unreadable. */
export class AddressBookFileError extends Error {
  name = 'AddressBookFileError'
}

export class AddressBook {
  private readonly store: AddressBookStore | undefined
  private readonly onSaveError: (error: Error) => void
  private peers = new Map<string, AddressBookEntry>()
  private saveTimer: ReturnType<typeof setTimeout> | null = null
  private saving: Promise<void> = Promise.resolve()

  /** `store` undefined: in memory only. `onSaveError` hears a failed save (the book stays right in memory). */
  constructor (store?: AddressBookStore, onSaveError: (error: Error) => void = () => {}) {
    this.store = store
    this.onSaveError = onSaveError
  }

  async load (): Promise<void> {
    if (this.store === undefined) return
    for (const [peer, entry] of Object.entries(await this.store.load())) {
      if (Array.isArray(entry?.addrs)) this.peers.set(peer, { addrs: entry.addrs.filter(a => typeof a === 'string'), seenAt: Number(entry.seenAt) || 0 })
    }
  }

  get (peer: string): string[] {
    return this.peers.get(peer)?.addrs.slice() ?? []
  }

  entries (): Array<[string, string[]]> {
    return Array.from(this.peers, ([peer, e]) => [peer, e.addrs.slice()])
  }

  /** Put `addrs` first for `peer` (direct before relayed), keeping older ones after them. */
  remember (peer: string, addrs: string[]): void {
    if (addrs.length === 0) return
    const all = directFirst([...addrs, ...this.get(peer)])
    // A relayed address stays valid whatever ports the peer moves to, so new direct addresses
    // (dead ones piling up after each restart on new ports) must not push it out of the book.
    const relayed = all.filter(a => isRelayedAddr(a)).slice(0, ADDRESS_BOOK_MAX_RELAYED)
    const merged = [...all.filter(a => !isRelayedAddr(a)).slice(0, ADDRESS_BOOK_MAX_ADDRS - relayed.length), ...relayed]
    const before = this.peers.get(peer)?.addrs
    this.peers.set(peer, { addrs: merged, seenAt: Date.now() })
    // A peer met for the first time (pairing) is written at once: a page closed right after pairing
    // would otherwise forget where its desktop is. Changes to known peers are written together.
    if (before === undefined) this.saveNow()
    else if (before.join() !== merged.join()) this.scheduleSave()
  }

  /**
   * `current` is where `peer` listens now, in its own word: its direct addresses missing from it
   * are dropped (relayed ones stay: they outlive the peer's ports).
   */
  retainDirect (peer: string, current: string[]): void {
    const entry = this.peers.get(peer)
    if (entry === undefined) return
    const keep = new Set(current)
    const addrs = entry.addrs.filter(a => isRelayedAddr(a) || keep.has(a))
    if (addrs.length === entry.addrs.length) return
    if (addrs.length === 0) this.peers.delete(peer)
    else this.peers.set(peer, { addrs, seenAt: entry.seenAt })
    this.scheduleSave()
  }

  forget (peer: string): void {
    if (this.peers.delete(peer)) this.scheduleSave()
  }

  /** Write pending changes now. */
  async flush (): Promise<void> {
    if (this.saveTimer !== null) this.saveNow()
    await this.saving
  }

  private saveNow (): void {
    if (this.saveTimer !== null) { clearTimeout(this.saveTimer); this.saveTimer = null }
    this.save()
  }

  private scheduleSave (): void {
    if (this.store === undefined || this.saveTimer !== null) return
    this.saveTimer = setTimeout(() => { this.saveTimer = null; this.save() }, SAVE_DELAY_MS)
    // Node: a pending save does not keep the process alive (flush on stop writes it).
    ;(this.saveTimer as { unref?: () => void }).unref?.()
  }

  private save (): void {
    const store = this.store
    if (store === undefined) return
    const entries: AddressBookEntries = Object.fromEntries(this.peers)
    // Saves run one after another; a failed one is reported and the next save carries everything again.
    this.saving = this.saving.then(async () => { await store.save(entries) }).catch((err: Error) => { this.onSaveError(err) })
  }
}
