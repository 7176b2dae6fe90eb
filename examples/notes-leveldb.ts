// The shared notes app on LevelDB storage (the on-disk layout of y-leveldb) instead of
// the file store: only the storage changes. Same verbs and options as examples/notes.ts.
// Run: node examples/notes-leveldb.ts add "buy milk"

import { LevelStore } from '../core/store/leveldb-store.ts' // in a project: 'dispatch-p2p/leveldb'
import { runNotes } from './notes.ts'

await runNotes(process.argv.slice(2), async dir => await LevelStore.open({ dir }))
