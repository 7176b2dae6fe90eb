// The address book of a browser device: one record in an IndexedDB database, written in a
// strict-durability transaction on every save.

import type { AddressBookEntries, AddressBookStore } from './address-book.ts'

const STORE = 'book'
const KEY = 'peers'

/** An `AddressBookStore` in IndexedDB database `name` (the global `indexedDB` unless `factory` is given). */
export function indexedDbAddressBook (name: string, factory?: IDBFactory): AddressBookStore {
  const open = async (): Promise<IDBDatabase> => {
    const request = (factory ?? indexedDB).open(name, 1)
    request.onupgradeneeded = () => { request.result.createObjectStore(STORE) }
    return await done(request)
  }
  return {
    async load () {
      const db = await open()
      try {
        const value = await done(db.transaction(STORE, 'readonly').objectStore(STORE).get(KEY))
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
        await new Promise<void>((resolve, reject) => {
          tx.oncomplete = () => { resolve() }
          tx.onabort = () => { reject(tx.error ?? new Error('address book write aborted')) }
          tx.onerror = () => { reject(tx.error ?? new Error('address book write failed')) }
        })
      } finally {
        db.close()
      }
    }
  }
}

function done<T> (request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => { resolve(request.result) }
    request.onerror = () => { reject(request.error) }
  })
}
