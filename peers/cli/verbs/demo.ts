// `dispatch demo`: the whole story in one command, in temporary homes on this machine: a
// desktop and a phone pair, the phone adds tasks while the desktop is off, the desktop comes
// up, the tasks sync, run and report back; then everything is removed. Both devices go
// through the application API, as the `pair`, `join`, `add`, `watch` and `desktop` verbs do.

import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freeLoopbackPort } from '../free-port.ts'
import type { Verb } from '../verb.ts'

const DEMO_TIMEOUT_MS = 60_000

export class DemoTimeoutError extends Error {
  name = 'DemoTimeoutError'
}

export const demo: Verb = {
  name: 'demo',
  usage: '',
  summary: 'see it work: a desktop and a phone in temporary homes, offline tasks, sync, results',
  async run (ctx) {
    const { lockHome } = await import('../../home/lock.ts')
    const reach = await import('../../device/reach.ts')
    const { startDesktopAgent } = await import('../../device/desktop-agent.ts')
    const started = Date.now()
    const secs = (): string => ((Date.now() - started) / 1000).toFixed(1).padStart(4)
    const say = (line: string, event?: Record<string, unknown>): void => {
      if (ctx.json) ctx.printJson({ at: Date.now() - started, ...(event ?? { event: 'say' }), message: line })
      else ctx.print(`[${secs()} s] ${line}`)
    }
    const root = await mkdtemp(join(tmpdir(), 'dispatch-demo-'))
    const work = join(root, 'work')
    await mkdir(work)
    const deskHome = join(root, 'desktop')
    const phoneHome = join(root, 'phone')
    const listen = [`/ip4/127.0.0.1/tcp/${await freeLoopbackPort()}`]
    // Closed in reverse order of opening, whatever happens.
    const open: Array<() => Promise<void>> = []
    const report = (line: string): void => { if (!ctx.json) ctx.note(`dispatch: ${line}`) }
    const openApp = async (home: string, role: 'desktop' | 'phone', name?: string) => {
      const held = await reach.openApp({ home, lock: await lockHome(home), role, name, listen: role === 'desktop' ? listen : [], mdns: false, report })
      open.unshift(held.close)
      return { ...held, close: async () => { open.splice(open.indexOf(held.close), 1); await held.close() } }
    }
    const key = ctx.env.ANTHROPIC_API_KEY !== undefined && ctx.env.ANTHROPIC_API_KEY !== ''
    const watchdog = AbortSignal.timeout(DEMO_TIMEOUT_MS)
    const stop = new AbortController()
    const signal = AbortSignal.any([watchdog, stop.signal])
    try {
      say(`two devices, each with its own home under ${root}`)
      let desktop = await openApp(deskHome, 'desktop', 'demo-desktop')
      const phone = await openApp(phoneHome, 'phone', 'demo-phone')

      say('pairing: the desktop shows an invite (a QR code with `dispatch pair`), the phone joins with it')
      let invited!: (text: string) => void
      const invite = new Promise<string>(resolve => { invited = resolve })
      const paired = desktop.app.pair({ ttlMs: 60_000 }, { signal, onEvent: event => invited(event.invite) })
      const accepted = await phone.app.join({ invite: await invite }, { signal })
      await paired
      say(`paired "${phone.device.name}" with "${accepted.name}" (both showed the code ${accepted.code})`, { event: 'paired' })

      await desktop.close()
      say('the desktop goes offline; the phone adds tasks anyway (each saved on disk before "queued")')
      const texts = ['$ echo "hello from your desktop"', '$ uname -sr', '$ date +%H:%M:%S && ls -a | wc -l']
      if (key) texts.push('In one short sentence: what is the working folder for?')
      const ids: string[] = []
      for (const text of texts) {
        const r = await phone.app.add({ text, deliverMs: 500 }, { signal })
        ids.push(r.id)
        say(`  queued ${r.id.slice(-6)}  ${text}   (delivered: ${r.delivered})`, { event: 'queued', id: r.id, text })
      }

      say(`the desktop comes back and runs its agent (${key ? 'Claude, and the shell for `$` tasks' : 'shell executor: no ANTHROPIC_API_KEY'}), working in ${work}`)
      desktop = await openApp(deskHome, 'desktop')
      const agent = await startDesktopAgent(desktop.device, desktop.app.board, desktop.app.scheduleBoard, { flags: { readWrite: [work], terminal: true }, executor: 'auto', env: ctx.env, log: () => {} })
      open.unshift(agent.stop)

      // The phone follows the tasks as `dispatch watch` does, and syncs with the desktop.
      const left = new Set(ids)
      const finished = new Promise<void>((resolve, reject) => {
        watchdog.addEventListener('abort', () => reject(new DemoTimeoutError('the demo took too long; something is wrong on this machine (try DISPATCH_DEBUG=1)')), { once: true })
        phone.app.watch({}, {
          signal,
          onEvent: event => {
            if (event.event === 'status' && left.has(event.id)) say(`  ${event.id.slice(-6)} ${event.status}`, { event: 'status', id: event.id, status: event.status })
            if (event.event === 'finished' && left.has(event.task.id)) {
              const t = event.task
              const text = String(t.status === 'done' ? t.result : t.error).trim().split('\n').slice(0, 2).join(' | ')
              say(`  ${t.id.slice(-6)} ${t.status} on the desktop in ${t.durationMs} ms -> ${text}`, { event: 'finished', id: t.id, status: t.status, result: t.result ?? null })
              left.delete(t.id)
              if (left.size === 0) resolve()
            }
          }
        }).catch(reject)
      })
      await Promise.all([
        phone.app.sync({ timeoutMs: 10_000 }, { signal }).then(() => { say('the phone reaches the desktop: the queued tasks sync over') }),
        finished
      ])
      say(`all ${ids.length} tasks ran and their results are back on the phone${key ? '' : '; natural-language tasks need ANTHROPIC_API_KEY on the desktop'}`)
      say('next: `dispatch desktop --allow DIR --terminal` on your computer, `dispatch pair` there, `dispatch join` on the other device (see README)')
    } finally {
      stop.abort()
      for (const close of open.splice(0)) await close()
      await rm(root, { recursive: true, force: true })
      if (!ctx.json) ctx.print(`[${secs()} s] cleaned up ${root}`)
    }
  }
}
