// The address book of a browser device: one record in an IndexedDB database, written in a
// strict-durability transaction on every save.

import type { AddressBookEntries, AddressBookStore } from './address-book.ts'
import { idbRequest, idbTransaction } from '../store/idb.ts'

const STORE = 'book'
const KEY = 'peers'

/** An `AddressBookStore` in IndexedDB database `name` (the global `indexedDB` unless `factory` is given). */
export function indexedDbAddressBook (name: string, factory?: IDBFactory): AddressBookStore {
  const open = async (): Promise<IDBDatabase> => {
    const request = (factory ?? indexedDB).open(name, 1)
    request.onupgradeneeded = () => { request.result.createObjectStore(STORE) }
    return await idbRequest(request)
  }
  return {
    async load () {
      const db = await open()
      try {
        const value = await idbRequest(db.transaction(STORE, 'readonly').objectStore(STORE).get(KEY))
        return typeof value === 'object' && value !== null ? value as AddressBookEntries : {}
      } finally {
        db.close()
      }
    },
    async save (entries) {
      const db = await open()
      try {
        const tx = db.transaction(STORE, 'readwrite', { durability: 'strict' })
        tx.objectStore(STORE).put(entries, KEY)
        await idbTransaction(tx)
      } finally {
        db.close()
      }
    }
  }
}

