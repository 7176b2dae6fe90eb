// Types for the part of `y-leveldb` we use: its package.json `exports` hides the
// declarations it ships, so TypeScript (nodenext) cannot find them on its own.

declare module 'y-leveldb' {
  import type * as Y from 'yjs'

  /** Encodes ['v1', doc, 'update', clock]-style keys into ordered bytes. */
  export const keyEncoding: {
    buffer: true
    type: string
    encode: (key: Array<string | number>) => Uint8Array
    decode: (bytes: Uint8Array) => Array<string | number>
  }

  export class LeveldbPersistence {
    constructor (location: string, opts?: { Level?: unknown, levelOptions?: object })
    getYDoc (docName: string): Promise<Y.Doc>
    storeUpdate (docName: string, update: Uint8Array): Promise<number>
    flushDocument (docName: string): Promise<void>
    getAllDocNames (): Promise<string[]>
    getMeta (docName: string, metaKey: string): Promise<unknown>
    clearDocument (docName: string): Promise<void>
    destroy (): Promise<void>
  }
}
