// How the verbs write tasks, durations and devices for a person (the --json output is the API's
// own values). Shared by the verbs, so each says a thing the same way.

import type { TaskDetail } from '../app/api.ts'

export function formatDuration (ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-'
  if (ms < 1000) return `${ms} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`
}

/** `30d`, `12h`, `15m`, `10s`, `500ms`, `0s` (a bare number is seconds) in milliseconds; NaN otherwise. */
export function parseDuration (text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim())
  if (m === null) return NaN
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[(m[2] ?? 's') as 'ms']
  return Number(m[1]) * unit
}

/** The first line of `text`, cut to `max` characters with an ellipsis. */
export function firstLine (text: unknown, max: number): string {
  const line = String(text ?? '').split('\n')[0]
  return line.length > max ? line.slice(0, max - 1) + '…' : line
}

/** Human lines for one task. */
export function describeTask (t: TaskDetail): string[] {
  const lines = [
    `${t.id}  ${t.status}${t.archived ? ' (archived)' : ''}${t.verified === false ? '  UNVERIFIED: no receipt from its desktop proves this outcome' : ''}`,
    `  task:     ${t.text}`,
    `  for:      ${t.targetName ?? t.target}${t.scope !== undefined ? ` in ${t.scope}` : ''}`,
    `  created:  ${new Date(t.createdAt).toISOString()}${t.attempt > 0 ? `   attempt ${t.attempt}` : ''}`
  ]
  if (t.scheduleId !== undefined) lines.push(`  schedule: ${t.scheduleId} (a scheduled run; dispatch schedules)`)
  if (t.finishedAt !== undefined) lines.push(`  finished: ${new Date(t.finishedAt).toISOString()}   took ${formatDuration(t.durationMs)}`)
  if (t.parent !== undefined) lines.push(`  follows:  ${t.parent}`)
  if ((t.status === 'awaiting-approval' || t.status === 'awaiting-answer') && t.pending != null) {
    const p = t.pending
    lines.push(p.kind === 'approval' ? `  asks to run: ${p.summary} (${p.reason})` : `  asks:     ${p.question}`)
    lines.push(`  answer by:  ${new Date(p.expiresAt).toISOString()}${p.kind === 'approval' ? ' (then denied)' : ''}`)
  }
  if (t.cancelRequested && t.status !== 'cancelled') lines.push('  cancel requested')
  if (t.result !== undefined) lines.push('  result:', ...t.result.split('\n').map(l => `    ${l}`))
  if (t.error !== undefined) lines.push(`  error:    ${t.error}`)
  for (const o of t.outputs) lines.push(`  output:   ${o.path} (${o.size} bytes, sha256 ${o.sha256.slice(0, 12)}…)`)
  if (t.log.length > 0) {
    lines.push('  log:')
    for (const e of t.log) {
      // A command's output is kept whole (a batch of lines per entry); other entries show their first line.
      const [first, ...more] = e.kind === 'output' ? e.text.split('\n') : [e.text.split('\n')[0]]
      lines.push(`    ${new Date(e.at).toISOString().slice(11, 19)} ${e.kind.padEnd(6)} ${first}`, ...more.map(l => `                    ${l}`))
    }
  }
  return lines
}

/** A time for lists: local `YYYY-MM-DD HH:MM:SS`, `-` for none. */
export function formatTime (ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-'
  const d = new Date(ms)
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

/** The line a holder (desktop, watch) prints when its disk stops, or starts again, taking changes. */
export function describeStorageEvent (event: { event: 'storage-error', message: string } | { event: 'storage-recovered' }): string {
  return event.event === 'storage-error'
    ? `dispatch: cannot save to disk: ${event.message}; changes are kept in memory and saved as soon as there is room (adding tasks fails until then)`
    : 'dispatch: saving to disk works again: every change is on disk'
}
