// `createProvider` for a page: the device key, the document and the node's address book in
// IndexedDB, so a reloaded page is the same device and reconnects by itself.

import type { SyncNodeOptions } from './node.ts'
import { createProvider } from './provider.ts'
import type { ProviderOptions, SpaceProvider } from './provider.ts'
import type { Storage } from './store/storage.ts'
import { IndexedDbStore } from './store/indexeddb-store.ts'
import { loadOrCreateBrowserIdentity } from './browser-identity.ts'
import { browserNodeOptions } from './browser-node.ts'
import { indexedDbAddressBook } from './net/address-book-idb.ts'

/** IndexedDB database of the browser device's key, unless `identity` names another. */
export const BROWSER_IDENTITY_DB = 'dispatch-p2p-identity'
/** IndexedDB database of the documents (one holds every space), unless `storage` is given. */
export const BROWSER_STORE_DB = 'dispatch-p2p'
/** A page reconnects sooner than a desktop would: at most this long between attempts. */
const BROWSER_RECONNECT_MAX_MS = 5_000

/** Options of the browser entry's `createProvider`: `ProviderOptions` with browser defaults. */
export interface BrowserProviderOptions extends Omit<ProviderOptions, 'storage'> {
  /** Where the document persists: an `IndexedDbStore` named `dispatch-p2p` by default (closed by `destroy()`). */
  storage?: Storage
  /**
   * IndexedDB database holding this browser's device key (`dispatch-p2p-identity` by default),
   * or `false` for a new identity each time (nothing reconnects after a reload). `node.privateKey` wins.
   */
  identity?: string | false
  /** Keep paired devices' addresses in IndexedDB (the node's address book, database `dispatch-p2p:<space>:peers`) and reconnect to them on the next load. Default true. */
  rememberPeers?: boolean
}

/**
 * Open `space` in this page as a Yjs provider. Nothing to set up: the device key and the
 * document live in IndexedDB, and devices paired once are reconnected on every load.
 *
 * ```ts
 * const provider = await createProvider('notes')
 * if (location.hash.startsWith('#DISPATCH1:')) await provider.pair(location.hash.slice(1))
 * ```
 */
export async function createBrowserProvider (space: string, options: BrowserProviderOptions = {}): Promise<SpaceProvider> {
  const node: SyncNodeOptions = browserNodeOptions({ reconnect: { maxMs: BROWSER_RECONNECT_MAX_MS }, ...options.node })
  if (node.privateKey === undefined && options.identity !== false) {
    node.privateKey = await loadOrCreateBrowserIdentity(options.identity ?? BROWSER_IDENTITY_DB)
  }
  if (options.rememberPeers !== false && node.addressBook === undefined) node.addressBook = indexedDbAddressBook(`dispatch-p2p:${space}:peers`)
  const storage = options.storage ?? await IndexedDbStore.open({ name: BROWSER_STORE_DB })
  let provider: SpaceProvider
  try {
    provider = await createProvider(space, { ...options, node, storage, closeStorage: options.storage === undefined || options.closeStorage })
  } catch (err) {
    if (options.storage === undefined) await storage.close()
    throw err
  }
  return provider
}

