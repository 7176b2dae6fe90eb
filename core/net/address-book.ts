// The last known multiaddrs of each member, kept in a small JSON file so that a restarted
// device can find its peers again. Written atomically (temp file, fsync, rename).
// node:fs is imported lazily so that browsers (no file, in-memory book) never load it.


/** Addresses kept per peer: the most recently seen first. */
export const ADDRESS_BOOK_MAX_ADDRS = 16
const SAVE_DELAY_MS = 200

export class AddressBookFileError extends Error {
  name = 'AddressBookFileError'
}

interface AddressBookFile {
  version: 1
  peers: Record<string, { addrs: string[], seenAt: number }>
}

export class AddressBook {
  readonly path: string | undefined
  private peers = new Map<string, { addrs: string[], seenAt: number }>()
  private saveTimer: ReturnType<typeof setTimeout> | null = null
  private saving: Promise<void> = Promise.resolve()

  /** `path` undefined: an in-memory book (tests, browsers). */
  constructor (path?: string) {
    this.path = path
  }

  /** Read the file; a missing file is an empty book, a corrupt one is an error that names it. */
  async load (): Promise<void> {
    if (this.path === undefined) return
    const { readFile } = await import('node:fs/promises')
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    try {
      const file = JSON.parse(text) as AddressBookFile
      for (const [peer, entry] of Object.entries(file.peers ?? {})) {
        if (Array.isArray(entry.addrs)) this.peers.set(peer, { addrs: entry.addrs.filter(a => typeof a === 'string'), seenAt: Number(entry.seenAt) || 0 })
      }
    } catch (err) {
      throw new AddressBookFileError(`${this.path} is not a valid address book: ${(err as Error).message}`)
    }
  }

  get (peer: string): string[] {
    return this.peers.get(peer)?.addrs.slice() ?? []
  }

  entries (): Array<[string, string[]]> {
    return Array.from(this.peers, ([peer, e]) => [peer, e.addrs.slice()])
  }

  /** Put `addrs` first for `peer`, keeping older ones after them. */
  remember (peer: string, addrs: string[]): void {
    const merged = Array.from(new Set([...addrs, ...this.get(peer)])).slice(0, ADDRESS_BOOK_MAX_ADDRS)
    const before = this.peers.get(peer)?.addrs
    this.peers.set(peer, { addrs: merged, seenAt: Date.now() })
    if (before === undefined || before.join() !== merged.join()) this.scheduleSave()
  }

  forget (peer: string): void {
    if (this.peers.delete(peer)) this.scheduleSave()
  }

  /** Write pending changes now. */
  async flush (): Promise<void> {
    if (this.saveTimer !== null) { clearTimeout(this.saveTimer); this.saveTimer = null; this.save() }
    await this.saving
  }

  private scheduleSave (): void {
    if (this.path === undefined || this.saveTimer !== null) return
    this.saveTimer = setTimeout(() => { this.saveTimer = null; this.save() }, SAVE_DELAY_MS)
    this.saveTimer.unref?.()
  }

  private save (): void {
    const path = this.path
    if (path === undefined) return
    const file: AddressBookFile = { version: 1, peers: Object.fromEntries(this.peers) }
    this.saving = this.saving.then(async () => {
      const { mkdir, open, rename } = await import('node:fs/promises')
      await mkdir(path.slice(0, Math.max(path.lastIndexOf('/'), 1)), { recursive: true })
      const tmp = `${path}.tmp`
      const handle = await open(tmp, 'w', 0o600)
      try {
        await handle.writeFile(JSON.stringify(file, null, 1))
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(tmp, path)
    }).catch(() => {
      // Losing the address book costs a reconnection, never data: keep running.
    })
  }
}

/** Direct addresses first, relayed (`/p2p-circuit`) ones after, otherwise in the given order. */
export function directFirst<T extends { toString: () => string }> (addrs: T[]): T[] {
  const relayed = (a: T): boolean => a.toString().includes('/p2p-circuit')
  return [...addrs.filter(a => !relayed(a)), ...addrs.filter(relayed)]
}
