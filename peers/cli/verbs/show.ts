// `dispatch show TASK_ID`: one task (id prefix ok) from the live document or the archive,
// with its status, result, outputs and log.

import { callDevice } from '../../device/reach.ts'
import type { Verb } from '../verb.ts'

export const show: Verb = {
  name: 'show',
  usage: 'TASK_ID',
  summary: 'show one task: status, result, outputs, log (id prefix ok)',
  positionals: { min: 1, max: 1 },
  async run (ctx) {
    const task = await callDevice(ctx.home, 'show', { id: ctx.positionals[0] }, { open: { listen: [], connect: false }, signal: ctx.signal })
    if (ctx.json) { ctx.printJson(task); return }
    ctx.print(describeTask(task).join('\n'))
  }
}

export function formatDuration (ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-'
  if (ms < 1000) return `${ms} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`
}

/** Human lines for one task. */
export function describeTask (t: any): string[] {
  const lines = [
    `${t.id}  ${t.status}${t.archived === true ? ' (archived)' : ''}`,
    `  task:     ${t.text}`,
    `  for:      ${t.targetName ?? t.target}${t.scope !== undefined ? ` in ${t.scope}` : ''}`,
    `  created:  ${new Date(t.createdAt).toISOString()}${t.attempt > 0 ? `   attempt ${t.attempt}` : ''}`
  ]
  if (t.finishedAt !== undefined && t.finishedAt !== null) lines.push(`  finished: ${new Date(t.finishedAt).toISOString()}   took ${formatDuration(t.durationMs ?? (t.startedAt !== undefined ? t.finishedAt - t.startedAt : null))}`)
  if (t.cancelRequested === true && t.status !== 'cancelled') lines.push('  cancel requested')
  if (t.result !== undefined && t.result !== null) lines.push('  result:', ...String(t.result).split('\n').map(l => `    ${l}`))
  if (t.error !== undefined && t.error !== null) lines.push(`  error:    ${t.error}`)
  for (const o of t.outputs ?? []) lines.push(`  output:   ${o.path} (${o.size} bytes, sha256 ${String(o.sha256).slice(0, 12)}…)`)
  if (Array.isArray(t.log) && t.log.length > 0) {
    lines.push('  log:')
    for (const e of t.log) lines.push(`    ${new Date(e.at).toISOString().slice(11, 19)} ${e.kind.padEnd(6)} ${String(e.text).split('\n')[0]}`)
  }
  return lines
}
