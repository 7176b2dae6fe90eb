// The child process of durability.test.ts: edits a Y.Doc as fast as it can, appends
// each update to a FileStore, and prints an update's index only once its append resolved.
//
//   node core/store/durability-writer.fixture.ts DIR ROUND SEED

import * as Y from 'yjs'
import { FileStore } from './file-store.ts'

export const SPACE = 'durability'

/** The key and value of update `index` of `round`, so the parent can check them exactly. */
export function entryFor (round: number, index: number): [string, string] {
  // Mostly small updates, now and then a large one: a large write is the likeliest to be torn.
  const length = index % 61 === 7 ? 16_000 + (index * 7919) % 32_000 : (index * 31) % 300
  const key = `r${round}-${index}`
  return [key, key + ':' + 'x'.repeat(length)]
}

/** mulberry32: small, fast, good enough to make test runs replayable from a seed. */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function main (): Promise<void> {
  const [dir, roundArg, seedArg] = process.argv.slice(2)
  const round = Number(roundArg)
  const random = prng(Number(seedArg))
  const store = await FileStore.open({ dir })
  const doc = new Y.Doc()
  for (const update of await store.load(SPACE)) Y.applyUpdate(doc, update)
  const map = doc.getMap<string>('entries')
  let captured: Uint8Array | null = null
  doc.on('update', (update: Uint8Array) => { captured = update })
  process.stdout.write('ready\n')

  // Runs until the parent kills it. Bursts of concurrent appends exercise group commit;
  // an occasional compaction lets kills land inside it too.
  let index = 0
  for (;;) {
    const burst = 1 + Math.floor(random() * 12)
    const pending: Array<Promise<void>> = []
    for (let b = 0; b < burst; b++) {
      const i = index++
      const [key, value] = entryFor(round, i)
      map.set(key, value)
      const update = captured as Uint8Array | null
      if (update === null) throw new Error('no update captured')
      pending.push(store.append(SPACE, update).then(() => { process.stdout.write(`${i}\n`) }))
    }
    if (random() < 0.05) pending.push(store.compact(SPACE, Y.encodeStateAsUpdate(doc)))
    await Promise.all(pending)
  }
}

if (import.meta.main) {
  main().catch(err => {
    console.error(err)
    process.exit(1)
  })
}
