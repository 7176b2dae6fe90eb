// A browser device's libp2p identity: an Ed25519 key kept in IndexedDB, created on first use.
// The key never leaves the browser profile; clearing site data makes a new, unpaired device.
// Key generation and signing are @libp2p/crypto's pure-JS fallback where Web Crypto is missing
// (a page on plain http://<lan-host>), so this works on any origin.

import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { idbRequest as request } from './store/idb.ts'

const STORE = 'keys'
const KEY = 'identity'

/** Load the key stored in IndexedDB database `dbName`, or create, store and return a new one (the browser's `loadOrCreateIdentity`). */
export async function loadOrCreateBrowserIdentity (dbName: string): Promise<PrivateKey> {
  const db = await openDb(dbName)
  try {
    const stored = await request(db.transaction(STORE, 'readonly').objectStore(STORE).get(KEY))
    if (stored instanceof Uint8Array) return privateKeyFromProtobuf(stored)
    const key = await generateKeyPair('Ed25519')
    // `add`, not `put`: if another tab created a key meanwhile, keep theirs.
    const tx = db.transaction(STORE, 'readwrite', { durability: 'strict' })
    tx.objectStore(STORE).add(privateKeyToProtobuf(key), KEY)
    const added = await new Promise<boolean>(resolve => { tx.oncomplete = () => { resolve(true) }; tx.onabort = () => { resolve(false) } })
    if (added) return key
    return privateKeyFromProtobuf(await request(db.transaction(STORE, 'readonly').objectStore(STORE).get(KEY)) as Uint8Array)
  } finally {
    db.close()
  }
}

function openDb (name: string): Promise<IDBDatabase> {
  const open = indexedDB.open(name, 1)
  open.onupgradeneeded = () => { open.result.createObjectStore(STORE) }
  return request(open)
}

