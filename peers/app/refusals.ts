// What this device refused from another member (a forged membership statement, an update past
// the space's limits, a write to a task it may not make, a delete of unfinished work): one
// record each, told to the person (`report`, `desktop --json` as a `refused` event) and kept,
// so `dispatch devices` can show a warning count per member.

/** One refusal, naming the member whose sync delivered what was refused. */
export interface Refusal {
  at: number
  /** Peer id of the member (or the stranger) refused; '' when unknown. */
  peer: string
  /** Its name as this device knows it. */
  name: string
  reason: string
}

/** Where a device keeps its refusals (a file in a home, memory in a page). */
export interface RefusalLog {
  /** Resolves once `refusal` is kept. */
  append: (refusal: Refusal) => Promise<void>
  /** Refusals per peer id. */
  counts: () => Promise<Map<string, number>>
}

/** A `RefusalLog` in memory (the browser page: its counts last as long as the page). */
export class MemoryRefusalLog implements RefusalLog {
  readonly refusals: Refusal[] = []

  async append (refusal: Refusal): Promise<void> {
    this.refusals.push(refusal)
  }

  async counts (): Promise<Map<string, number>> {
    return countByPeer(this.refusals)
  }
}

export function countByPeer (refusals: Iterable<Refusal>): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of refusals) counts.set(r.peer, (counts.get(r.peer) ?? 0) + 1)
  return counts
}

/** The line a person reads. */
export function refusalLine (r: Refusal): string {
  return `refused from ${r.peer === '' ? 'an unknown member' : `"${r.name}" (${r.peer})`}: ${r.reason}`
}
