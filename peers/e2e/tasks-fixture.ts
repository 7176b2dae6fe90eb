// Test-side set-up for the task scenarios: a desktop running its agent, a phone paired with
// it, a phone `watch` that holds its home, and running many `dispatch add`s through it.

import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ok, dispatch, openPair, DispatchProcess } from './cli-process.ts'

/** `dispatch desktop --json` with the agent: read-write WORK, terminal on, shell executor unless env says otherwise. */
export async function startAgentDesktop (home: string, name: string, port: number, work: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ proc: DispatchProcess, ready: any }> {
  await mkdir(work, { recursive: true })
  const proc = new DispatchProcess(home, ['desktop', '--json', '--name', name, '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--allow', work, '--terminal', ...extra], { ANTHROPIC_API_KEY: '', ...env })
  const ready = await proc.waitFor(l => l.event === 'ready')
  return { proc, ready }
}

/** Pairs the phone home with a running desktop home. */
export async function pairPhone (desktopHome: string, phoneHome: string, phoneName = 'pocket'): Promise<void> {
  const pair = await openPair(desktopHome)
  await ok(phoneHome, ['join', pair.invite, '--yes', '--name', phoneName])
  await pair.proc.waitFor(l => l.event === 'paired')
  await pair.proc.exited
}

/** `dispatch watch --json` holding the phone's home, once it is watching. */
export async function startWatch (home: string, extra: string[] = []): Promise<DispatchProcess> {
  const proc = new DispatchProcess(home, ['watch', '--json', ...extra])
  await proc.waitFor(l => l.event === 'watching')
  return proc
}

/** Runs `dispatch add --json` for each text, `parallel` at a time; every one must be acknowledged. */
export async function addAll (home: string, texts: string[], extra: string[] = [], parallel = 4): Promise<any[]> {
  const out: any[] = new Array(texts.length)
  let next = 0
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < texts.length) {
      const i = next++
      const r = await dispatch(home, ['add', '--json', ...extra, texts[i]])
      if (r.code !== 0) throw new Error(`add ${texts[i]} exited ${r.code}: ${r.stderr}`)
      out[i] = r.json[0]
    }
  }))
  return out
}

export async function tasksOf (home: string, args: string[] = ['--all']): Promise<any[]> {
  return (await ok(home, ['tasks', '--json', ...args]))[0]
}

export const marker = (dir: string, file = 'marker.txt'): string => join(dir, file)
