// Nothing acknowledged is lost: a writer killed with SIGKILL at random moments, and
// logs whose last record is cut short or bit-flipped, lose only unacknowledged data.
//
//   DURABILITY_SEED=123 node core/store/durability.test.ts    replays one run

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { FileStore, RECORD_HEADER_BYTES } from './file-store.ts'
import type { TailDropped } from './file-store.ts'
import { SPACE, entryFor, prng } from './durability-writer.fixture.ts'

const seed = Number(process.env.DURABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31))
const ROUNDS = Number(process.env.DURABILITY_ROUNDS ?? 50)
const fixture = join(import.meta.dirname, 'durability-writer.fixture.ts')

const test = suite('durability')

interface Round { reported: number[], sawReady: boolean, stderr: string }

/**
 * One writer process, killed at a random moment: one round in ten during start-up and
 * recovery, the others once it has acknowledged a random number of appends (counting
 * acknowledgements rather than milliseconds keeps kills mid-write however loaded the machine is).
 */
function runWriter (dir: string, round: number, random: () => number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, dir, String(round), String(Math.floor(random() * 2 ** 31))], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const result: Round = { reported: [], sawReady: false, stderr: '' }
    let buffered = ''
    let timer: NodeJS.Timeout | undefined
    const kill = (): void => { child.kill('SIGKILL') }
    const duringStartup = random() < 0.1
    const startupDelay = Math.floor(random() * 300)
    const afterAcks = Math.floor(random() * 100)
    const extraDelay = Math.floor(random() * 5)
    if (duringStartup) timer = setTimeout(kill, startupDelay)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk
      const lines = buffered.split('\n')
      // Only whole lines count: a half-printed index was never reported.
      buffered = lines.pop() as string
      for (const line of lines) {
        if (line === 'ready') result.sawReady = true
        else result.reported.push(Number(line))
      }
      if (timer === undefined && result.sawReady && result.reported.length >= afterAcks) timer = setTimeout(kill, extraDelay)
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => { result.stderr += chunk })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (code ${code}): ${result.stderr}`))
      else resolve(result)
    })
  })
}

test(`kill -9 at random moments loses no acknowledged update (${ROUNDS} rounds)`, async () => {
  const random = prng(seed)
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-durability-'))
  const acknowledged: Array<[number, number]> = []
  let appended = 0
  let drops = 0
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const { reported, stderr } = await runWriter(dir, round, random)
      for (const index of reported) acknowledged.push([round, index])
      appended += reported.length

      const store = await FileStore.open({ dir, onTailDropped: () => { drops++ } })
      const doc = new Y.Doc()
      try {
        for (const update of await store.load(SPACE)) Y.applyUpdate(doc, update)
        // The file was cut back to whole records, so the next writer appends after good data.
        assert.is(statSync(join(dir, `${SPACE}.log`)).size, store.logSize(SPACE), 'log holds only whole records')
      } finally {
        await store.close()
      }
      // A lost record in the middle would leave later updates waiting for it.
      assert.is(doc.store.pendingStructs, null, `round ${round}: updates with missing dependencies`)
      assert.is(doc.store.pendingDs, null, `round ${round}: deletes with missing dependencies`)
      const map = doc.getMap<string>('entries')
      for (const [r, index] of acknowledged) {
        const [key, value] = entryFor(r, index)
        if (map.get(key) !== value) {
          assert.unreachable(`round ${round}: acknowledged update ${key} is missing after kill -9 (writer stderr: ${stderr || 'none'})`)
        }
      }
      doc.destroy()
    }
    console.log(`  ${ROUNDS} kills, ${appended} acknowledged appends all present, ${drops} torn tails dropped (seed ${seed})`)
  } catch (err) {
    console.error(`durability failed with DURABILITY_SEED=${seed}`)
    throw err
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

/** Deterministic bytes: byte i is (tag * 31 + i) mod 251. */
function bytes (tag: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (tag * 31 + i) % 251
  return out
}

/**
 * Writes `damaged` as the log, then checks that the store recovers exactly `kept`,
 * leaves the log cut back to them, and that appends after recovery are kept too.
 * Every other call appends before the first load, since that path must recover as well.
 */
async function checkRecovery (dir: string, damaged: Uint8Array, kept: Uint8Array[], goodBytes: number, appendFirst: boolean, what: string): Promise<TailDropped[]> {
  const log = join(dir, 's.log')
  await writeFile(log, damaged)
  const drops: TailDropped[] = []
  const extra = bytes(99, 33)
  const store = await FileStore.open({ dir, onTailDropped: event => { drops.push(event) } })
  try {
    if (appendFirst) {
      await store.append('s', extra)
      assert.equal(await store.load('s'), [...kept, extra], what)
    } else {
      assert.equal(await store.load('s'), kept, what)
      assert.is(statSync(log).size, goodBytes, `${what}: log cut back to the last good record`)
      await store.append('s', extra)
    }
  } finally {
    await store.close()
  }
  const reopened = await FileStore.open({ dir, onTailDropped: () => { assert.unreachable(`${what}: a second drop after recovery`) } })
  try {
    assert.equal(await reopened.load('s'), [...kept, extra], `${what}, reopened`)
  } finally {
    await reopened.close()
  }
  return drops
}

/** A log of four records, the last `lastLength` bytes long; returns its bytes and where the last record starts. */
async function writeLog (dir: string, lastLength: number): Promise<{ updates: Uint8Array[], full: Buffer, lastStart: number }> {
  const updates = [bytes(1, 50), bytes(2, 1), bytes(3, 400), bytes(4, lastLength)]
  const store = await FileStore.open({ dir })
  for (const update of updates) await store.append('s', update)
  await store.close()
  const full = await readFile(join(dir, 's.log'))
  return { updates, full, lastStart: full.length - RECORD_HEADER_BYTES - lastLength }
}

test('a log cut at every byte offset of its last record loses only that record', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-torn-'))
  try {
    const { updates, full, lastStart } = await writeLog(dir, 60)
    const kept = updates.slice(0, -1)
    for (let cut = lastStart; cut < full.length; cut++) {
      const drops = await checkRecovery(dir, full.subarray(0, cut), kept, lastStart, cut % 2 === 1, `cut at ${cut} of ${full.length}`)
      if (cut === lastStart) assert.is(drops.length, 0)
      else {
        assert.is(drops.length, 1, `cut at ${cut}: one drop reported`)
        assert.equal({ ...drops[0] }, { space: 's', offset: lastStart, droppedBytes: cut - lastStart, reason: 'truncated' })
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('flipping any bit of the last record loses only that record', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-flip-'))
  try {
    const { updates, full, lastStart } = await writeLog(dir, 24)
    const kept = updates.slice(0, -1)
    for (let bit = lastStart * 8; bit < full.length * 8; bit++) {
      const damaged = Buffer.from(full)
      damaged[bit >> 3] ^= 1 << (bit & 7)
      const drops = await checkRecovery(dir, damaged, kept, lastStart, bit % 2 === 1, `bit ${bit - lastStart * 8} of the last record flipped`)
      assert.is(drops.length, 1)
      assert.is(drops[0].offset, lastStart)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a zero-filled tail (space allocated, data never written) is dropped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-zeros-'))
  try {
    const { updates, full } = await writeLog(dir, 10)
    for (const zeros of [1, 7, 8, 9, 4096]) {
      const drops = await checkRecovery(dir, Buffer.concat([full, Buffer.alloc(zeros)]), updates, full.length, zeros % 2 === 1, `${zeros} zero bytes`)
      assert.is(drops.length, 1)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
