// Placeholders for the series issue 7 asks for that need code not written yet, so
// every run reports them (with the reason) instead of silently leaving them out.
// Replace an entry with the real series (see "ADDING A SERIES" in bench/run.ts).

import { SeriesSkipped } from '../series.ts'
import type { Series } from '../series.ts'

/** A series that is named but not written yet: reported as skipped with `reason`. */
export function placeholder (kind: 'latency' | 'metrics', name: string, title: string, reason: string): Series {
  const fail = async (): Promise<never> => { throw new SeriesSkipped(reason) }
  return kind === 'latency'
    ? { kind, name, title, start: fail }
    : { kind, name, title, run: fail }
}

/** Every series issue 7 asks for is written now; new placeholders go here. */
export const plannedSeries: Series[] = []
