// Placeholders for the series issue 7 asks for that need code not written yet, so
// every run reports them (with the reason) instead of silently leaving them out.
// Replace an entry with the real series (see "ADDING A SERIES" in bench/run.ts).

import { SeriesSkipped } from '../series.ts'
import type { Series } from '../series.ts'

const WAITING_FOR_CORE = 'not written yet: needs a bench fixture on the sync engine (core/index.ts), like bench/fixtures/dispatch-peer.ts'
const WAITING_FOR_PEERS = 'not written yet: needs a bench fixture driving the task board and the desktop agent (peers/)'

function placeholder (kind: 'latency' | 'metrics', name: string, title: string, reason: string): Series {
  const fail = async (): Promise<never> => { throw new SeriesSkipped(reason) }
  return kind === 'latency'
    ? { kind, name, title, start: fail }
    : { kind, name, title, run: fail }
}

export const plannedSeries: Series[] = [
  placeholder('metrics', 'scale', 'space with 10k / 100k tasks: cold load, RSS/heap, doc size before/after prune, status-update throughput + p99', WAITING_FOR_PEERS)
]
