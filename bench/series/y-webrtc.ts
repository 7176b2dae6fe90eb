// y-webrtc series: two WebrtcProvider peers (Node WebRTC via @roamhq/wrtc) and the
// y-webrtc signaling server, all inside a private network namespace with only `lo` up.

import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { spawnFixture } from '../fixture-ipc.ts'
import { SeriesSkipped } from '../series.ts'
import type { LatencySeries } from '../series.ts'
import { EDIT_PAYLOADS } from '../fixtures/edit-round-trip.ts'
import type { EditPayload } from '../fixtures/edit-round-trip.ts'

// `exec "$0" "$@"` keeps the process id and the IPC file descriptor of the node that follows.
const NETNS_WRAP = ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"']

/** Why a private loopback-only network namespace cannot be made here, or undefined if it can. */
function netnsUnavailable (): string | undefined {
  const probe = spawnSync(NETNS_WRAP[0], [...NETNS_WRAP.slice(1), 'true'], { encoding: 'utf8' })
  if (probe.error !== undefined) return `cannot keep WebRTC on loopback: ${probe.error.message} (needs unshare and ip)`
  if (probe.status !== 0) return `cannot keep WebRTC on loopback: 'unshare -n' + 'ip link set lo up' failed: ${probe.stderr.trim() || `exit ${String(probe.status)}`}`
  return undefined
}

function yWebrtc (payload: EditPayload): LatencySeries {
  return {
    kind: 'latency',
    name: `y-webrtc/${payload}`,
    title: `y-webrtc 10 + @roamhq/wrtc, local signaling, private netns, edit round trip, ${payload}`,
    async start () {
      const why = netnsUnavailable()
      if (why !== undefined) throw new SeriesSkipped(why)
      const group = await spawnFixture({
        script: join(import.meta.dirname, '../fixtures/y-webrtc-group.ts'),
        args: [payload],
        wrap: NETNS_WRAP,
        label: 'y-webrtc group (netns)',
        readyTimeoutMs: 60_000
      })
      return {
        info: { transport: 'webrtc data channel (private netns, loopback)', processes: 3, ...group.info },
        measure: async count => await group.call('measure', count) as number[],
        stop: group.stop
      }
    }
  }
}

export const yWebrtcSeries: LatencySeries[] = EDIT_PAYLOADS.map(yWebrtc)
