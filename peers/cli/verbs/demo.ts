// `dispatch demo`: the whole story in one command, in temporary homes on this machine: a
// desktop and a phone pair, the phone adds tasks while the desktop is off, the desktop comes
// up, the tasks sync, run and report back; then everything is removed.

import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freeLoopbackPort } from '../free-port.ts'
import type { Verb } from '../verb.ts'

const DEMO_TIMEOUT_MS = 60_000


export const demo: Verb = {
  name: 'demo',
  usage: '',
  summary: 'see it work: a desktop and a phone in temporary homes, offline tasks, sync, results',
  async run (ctx) {
    const { lockHome } = await import('../../home/lock.ts')
    const { openDevice } = await import('../../device/device.ts')
    const { taskHandlers } = await import('../../device/task-handlers.ts')
    const { startDesktopAgent } = await import('../../device/desktop-agent.ts')
    const { acceptInvite } = await import('../../../core/index.ts')
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
    const open: Array<{ close: () => Promise<void> }> = []
    const quiet = { log: () => {} }
    const key = ctx.env.ANTHROPIC_API_KEY !== undefined && ctx.env.ANTHROPIC_API_KEY !== ''
    const watchdog = new AbortController()
    const timer = setTimeout(() => watchdog.abort(), DEMO_TIMEOUT_MS)
    try {
      say(`two devices, each with its own home under ${root}`)
      let desktop = await openDevice({ home: deskHome, lock: await lockHome(deskHome), role: 'desktop', name: 'demo-desktop', listen, connect: false })
      open.push(desktop)
      const phone = await openDevice({ home: phoneHome, lock: await lockHome(phoneHome), role: 'phone', name: 'demo-phone', listen: [], connect: false })
      open.push(phone)

      say('pairing: the desktop shows an invite (a QR code with `dispatch pair`), the phone joins with it')
      const invite = desktop.pairing.openInvite({ ttlMs: 60_000 })
      const accepted = await acceptInvite(phone.node, phone.space, invite.text, { name: phone.name, role: 'phone', signal: watchdog.signal })
      await invite.paired
      await phone.rememberPeer(accepted.peerId, accepted.addrs, accepted.name)
      say(`paired "${phone.name}" with "${accepted.name}" (both showed the code ${accepted.code})`, { event: 'paired' })

      await desktop.close()
      open.splice(open.indexOf(desktop), 1)
      say('the desktop goes offline; the phone adds tasks anyway (each saved on disk before "queued")')
      const phoneTasks = taskHandlers(phone)
      const texts = ['$ echo "hello from your desktop"', '$ uname -sr', '$ date +%H:%M:%S && ls -a | wc -l']
      if (key) texts.push('In one short sentence: what is the working folder for?')
      const ids: string[] = []
      for (const text of texts) {
        const r = await phoneTasks.add({ text, deliverMs: 500 }, () => {}, watchdog.signal) as { id: string, delivered: boolean }
        ids.push(r.id)
        say(`  queued ${r.id.slice(-6)}  ${text}   (delivered: ${r.delivered})`, { event: 'queued', id: r.id, text })
      }

      say(`the desktop comes back and runs its agent (${key ? 'Claude, and the shell for `$` tasks' : 'shell executor: no ANTHROPIC_API_KEY'}), working in ${work}`)
      desktop = await openDevice({ home: deskHome, lock: await lockHome(deskHome), listen, connect: false })
      open.push(desktop)
      const agent = await startDesktopAgent(desktop, { flags: { readWrite: [work], terminal: true }, executor: 'auto', env: ctx.env, log: quiet.log })
      open.unshift({ close: agent.stop })

      // The phone follows the tasks as `dispatch watch` does, and connects to the desktop.
      const left = new Set(ids)
      const finished = new Promise<void>((resolve, reject) => {
        watchdog.signal.addEventListener('abort', () => reject(new Error('the demo took too long; something is wrong on this machine (try DISPATCH_DEBUG=1)')), { once: true })
        void phoneTasks.watch({}, (event: any) => {
          if (event.event === 'status' && left.has(event.id)) say(`  ${event.id.slice(-6)} ${event.status}`, { event: 'status', id: event.id, status: event.status })
          if (event.event === 'finished' && left.has(event.task.id)) {
            const t = event.task
            const text = String(t.status === 'done' ? t.result : t.error).trim().split('\n').slice(0, 2).join(' | ')
            say(`  ${t.id.slice(-6)} ${t.status} on the desktop in ${t.durationMs} ms -> ${text}`, { event: 'finished', id: t.id, status: t.status, result: t.result ?? null })
            left.delete(t.id)
            if (left.size === 0) resolve()
          }
        }, watchdog.signal).catch(reject)
      })
      finished.catch(() => {})
      await phone.node.connect(accepted.addrs)
      say('the phone reaches the desktop: the queued tasks sync over')
      await finished
      say(`all ${ids.length} tasks ran and their results are back on the phone${key ? '' : '; natural-language tasks need ANTHROPIC_API_KEY on the desktop'}`)
      say('next: `dispatch desktop --allow DIR --terminal` on your computer, `dispatch pair` there, `dispatch join` on the other device (see README)')
    } finally {
      clearTimeout(timer)
      watchdog.abort()
      for (const d of open) await d.close().catch(() => {})
      await rm(root, { recursive: true, force: true })
      if (!ctx.json) ctx.print(`[${secs()} s] cleaned up ${root}`)
    }
  }
}

