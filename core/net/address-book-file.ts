// The address book of a Node device: one JSON file (in a Dispatch home, `peers.json`),
// replaced atomically and fsynced on every save.

import { readJsonFile, writeJsonFile, JsonFileError } from '../store/atomic-file.ts'
import { AddressBookFileError } from './address-book.ts'
import type { AddressBookEntries, AddressBookStore } from './address-book.ts'

const VERSION = 1

/** An `AddressBookStore` in the JSON file `path`; a missing file is an empty book, a corrupt one an `AddressBookFileError`. */
export function addressBookFile (path: string): AddressBookStore {
  return {
    async load () {
      let file: Record<string, unknown> | undefined
      try {
        file = await readJsonFile(path)
      } catch (err) {
        if (err instanceof JsonFileError) throw new AddressBookFileError(`${path} is not a valid address book (${err.message})`)
        throw err
      }
      const peers = file?.peers
      return typeof peers === 'object' && peers !== null ? peers as AddressBookEntries : {}
    },
    async save (entries) {
      await writeJsonFile(path, { version: VERSION, peers: entries })
    }
  }
}
