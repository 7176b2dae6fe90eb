// Test-side set-up for the schedule scenarios: a desktop and a phone paired in a temporary
// root, schedules added from the phone, the desktop's schedule lines, one sync exchange.

import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, ok, DispatchProcess } from './cli-process.ts'
import { startAgentDesktop, pairPhone } from './tasks-fixture.ts'

export interface ScheduleWorld {
  root: string
  desk: string
  phone: string
  work: string
  port: number
  running: Set<DispatchProcess>
}

/** A desktop home paired with a phone home (the desktop stopped again). */
export async function scheduleWorld (prefix: string): Promise<ScheduleWorld> {
  const root = await mkdtemp(join(tmpdir(), prefix))
  const w: ScheduleWorld = { root, desk: join(root, 'desk'), phone: join(root, 'phone'), work: join(root, 'work'), port: await freePort(), running: new Set() }
  const d = await startAgentDesktop(w.desk, 'studio', w.port, w.work)
  w.running.add(d.proc)
  await pairPhone(w.desk, w.phone)
  await stop(w, d.proc)
  return w
}

export async function startDesk (w: ScheduleWorld): Promise<DispatchProcess> {
  const d = await startAgentDesktop(w.desk, 'studio', w.port, w.work)
  w.running.add(d.proc)
  return d.proc
}

export async function stop (w: ScheduleWorld, p: DispatchProcess): Promise<void> { await p.stop(); w.running.delete(p) }
export async function kill9 (w: ScheduleWorld, p: DispatchProcess): Promise<void> { p.child.kill('SIGKILL'); await p.exited; w.running.delete(p) }

export async function stopAll (w: ScheduleWorld): Promise<void> {
  for (const p of [...w.running]) await stop(w, p)
}

export async function removeWorld (w: ScheduleWorld): Promise<void> {
  for (const p of w.running) p.child.kill('SIGKILL')
  await Promise.all(Array.from(w.running).map(async p => await p.exited))
  await rm(w.root, { recursive: true, force: true })
}

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** `dispatch add --json TEXT ...when` from the phone: the schedule's view. */
export async function schedule (w: ScheduleWorld, text: string, when: string[]): Promise<any> {
  const [r] = await ok(w.phone, ['add', '--json', text, ...when])
  assert.ok(r.reached, 'the desktop was reached when the schedule was added')
  return r.schedule
}

export const scheduleLines = (d: DispatchProcess, id: string, kind?: string): any[] => d.lines.filter(l => l.event === 'schedule' && l.id === id && (kind === undefined || l.kind === kind))

export async function waitCount (d: DispatchProcess, id: string, kind: string, n: number, timeoutMs = 60_000): Promise<any[]> {
  await d.waitFor(() => scheduleLines(d, id, kind).length >= n, timeoutMs)
  return scheduleLines(d, id, kind)
}

/** One exchange between the phone and the desktop: after it, each holds what the other wrote. */
export async function syncPhone (w: ScheduleWorld): Promise<void> {
  await ok(w.phone, ['sync', '--json', '--timeout', '20'])
}

export async function scheduleOf (home: string, id: string): Promise<any> {
  const [list] = await ok(home, ['schedules', '--json'])
  return list.find((s: any) => s.id === id)
}

/** The slot time in an occurrence id (task ids start with the time, Crockford base32). */
export function decodeTime (id: string): number {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
  let ms = 0
  for (const c of id.slice(0, 10)) ms = ms * 32 + alphabet.indexOf(c)
  return ms
}

