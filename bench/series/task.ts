// The task round trip: a phone adds a task (durable in its store, fsync included), the desktop
// agent claims it, the phone sees `claimed`. Two processes over libp2p TCP, FileStore on both
// sides, with fsync on and off so its cost shows.

import { join } from 'node:path'
import { spawnFixture } from '../fixture-ipc.ts'
import type { FixtureProcess } from '../fixture-ipc.ts'
import type { LatencySeries } from '../series.ts'

/**
 * Each sample is a task added, claimed, finished and pruned (~8 ms on a quiet machine, tens of
 * ms with fsync on a loaded disk): the full 5,000 samples (500 under --quick) add about 90 s.
 */
const TASK_SAMPLES = 5_000
const TASK_SAMPLES_QUICK = 500

function taskSeries (fsync: 'on' | 'off'): LatencySeries {
  return {
    kind: 'latency',
    maxSamples: TASK_SAMPLES,
    quickMaxSamples: TASK_SAMPLES_QUICK,
    name: `task/fsync-${fsync}`,
    title: `task round trip: phone add (store${fsync === 'on' ? ' fsync' : ', fsync off'}) -> desktop agent claims -> phone sees claimed`,
    async start (ctx) {
      const script = join(import.meta.dirname, '../fixtures/task-peer.ts')
      const started: FixtureProcess[] = []
      const stop = async (): Promise<void> => { for (const p of started.reverse()) await p.stop() }
      try {
        const desk = await spawnFixture({ script, args: ['desktop', join(ctx.tmpDir, 'desktop'), fsync], label: `task desktop (fsync ${fsync})` })
        started.push(desk)
        const deskAddr = (desk.info.addrs as string[])[0]
        const phone = await spawnFixture({ script, args: ['phone', join(ctx.tmpDir, 'phone'), fsync, deskAddr], label: `task phone (fsync ${fsync})` })
        started.push(phone)
        await desk.call('allow', phone.info.peerId)
        await phone.call('connect', undefined, 30_000)
        return {
          info: { transport: 'libp2p tcp + noise + yamux, direct', processes: 2, storage: 'FileStore on both sides', fsync, executor: 'finishes at once', ...phone.info },
          measure: async count => await phone.call('measure', count) as number[],
          stop
        }
      } catch (err) {
        await stop()
        throw err
      }
    }
  }
}

export const taskSeriesList: LatencySeries[] = [taskSeries('on'), taskSeries('off')]
