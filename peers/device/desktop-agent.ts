// The agent of `dispatch desktop`: grants from the home merged with flags, the Agent on the
// device's space and board, presence (online, what runs, what it holds queued, its VAPID key),
// and Web Push to the phones that sent it tasks (peers/push).

import { Agent, DEFAULT_CONCURRENCY } from '../agent/agent.ts'
import { loadGrants, saveGrants } from '../agent/permissions.ts'
import type { Grants } from '../agent/permissions.ts'
import type { ExecutorMode } from '../agent/executor.ts'
import { DEFAULT_MODEL } from '../agent/claude-executor.ts'
import { notEnforcedNotice } from '../agent/sandbox.ts'
import type { NoNetwork } from '../agent/sandbox.ts'
import { isFinal } from '../tasks/task-rules.ts'
import type { TaskBoard } from '../tasks/task-board.ts'
import { Scheduler } from '../schedules/scheduler.ts'
import type { HistoryEntry, Schedule, ScheduleBoard } from '../schedules/schedule-board.ts'
import { publishPresence, presenceOf, MAX_ADVERTISED_QUEUED } from '../app/presence.ts'
import { loadOrCreateVapidKeys } from '../push/vapid-keys.ts'
import { PushSubscriptions } from '../push/push-subscriptions.ts'
import { parseSubscription } from '../push/subscription.ts'
import { TaskPush } from '../push/task-push.ts'
import type { Device } from './device.ts'
import { fetchBlob } from '../../core/index.ts'

export interface DesktopAgentOptions {
  /** Grants given on the command line; saved into the home's grants when any is given. */
  flags: Partial<Grants>
  executor: ExecutorMode
  concurrency?: number
  /** How long a request to the phone waits (default 24 h); 0: never ask. */
  approvalTimeoutMs?: number
  env: NodeJS.ProcessEnv
  /** Notices for the person at the desktop. */
  log: (line: string) => void
  onTask?: (event: { event: 'task-start' | 'task-end', id: string, status?: string }) => void
  /** Something recorded on a schedule this desktop runs (started, finished, skipped, could not start). */
  onSchedule?: (schedule: Schedule, entry: Omit<HistoryEntry, 'at'>) => void
}

export interface DesktopAgent {
  agent: Agent
  scheduler: Scheduler
  grants: Grants
  /** One-line notices said at start-up: what runs, what needs a key or a grant. */
  notices: string[]
  stop: () => Promise<void>
}

/** Claim and run the tasks addressed to `device`, on its application's `board`, and run the schedules addressed to it. */
export async function startDesktopAgent (device: Device, board: TaskBoard, schedules: ScheduleBoard, opts: DesktopAgentOptions): Promise<DesktopAgent> {
  const home = device.layout.dir
  const grants = await loadGrants(home, opts.flags)
  const flagged = opts.flags.readWrite !== undefined || opts.flags.readOnly !== undefined || opts.flags.ask !== undefined || opts.flags.terminal !== undefined || opts.flags.network !== undefined
  if (flagged) await saveGrants(home, grants)
  const scheduler = new Scheduler({ schedules, board, deviceId: device.peerId, flush: async () => { await device.space.flush() }, now: () => device.now(), log: opts.log })
  const agent = new Agent({
    held: id => scheduler.isHeld(id),
    doc: device.space.doc,
    deviceId: device.peerId,
    grants,
    home,
    board,
    executor: opts.executor,
    concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
    ...(opts.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: opts.approvalTimeoutMs } : {}),
    env: opts.env,
    log: opts.log,
    // Attachments come from the phone that sent the task, into this home's blob store.
    blobs: { store: device.blobs, fetch: async (peer, hash) => { await fetchBlob(device.node, peer, hash, device.blobs) } }
  })

  // Web Push: pages subscribe with this key (from the presence below) and give their subscription
  // back in their own presence; it is kept in the home, so a push reaches a phone that is off.
  const vapid = await loadOrCreateVapidKeys(home)
  const subscriptions = await PushSubscriptions.open(home)
  const taskPush = new TaskPush({ board, deviceId: device.peerId, vapid, subscriptions, log: opts.log, ...(opts.env.DISPATCH_PUSH_SUBJECT ? { subject: opts.env.DISPATCH_PUSH_SUBJECT } : {}) })
  const learnSubscriptions = (): void => {
    for (const [peer, p] of presenceOf(device.space)) {
      const sub = p.push?.to === device.peerId ? parseSubscription(p.push.subscription) : undefined
      if (sub === undefined || device.space.members.isRevoked(peer)) continue
      subscriptions.set(peer, sub).catch((err: Error) => { opts.log(`push subscription of ${p.name} not saved: ${err.message}`) })
    }
  }
  device.space.awareness.on('change', learnSubscriptions)
  learnSubscriptions()

  let scheduled = false
  const publish = (): void => {
    if (scheduled) return
    scheduled = true
    queueMicrotask(() => {
      scheduled = false
      const running = agent.running().map(id => ({ id, text: (board.get(id)?.text ?? '').slice(0, 200) }))
      const queued = board.list()
        .filter(t => t.target === device.peerId && !isFinal(t.status) && !agent.running().includes(t.id))
        .map(t => t.id)
        .slice(-MAX_ADVERTISED_QUEUED)
      publishPresence(device.space, { peerId: device.peerId, name: device.name, role: 'desktop', running, queued, vapidKey: vapid.publicKey })
    })
  }
  board.on('tasks-change', publish)
  agent.on('task-start', id => { publish(); opts.onTask?.({ event: 'task-start', id }) })
  agent.on('task-end', (id, status) => { publish(); opts.onTask?.({ event: 'task-end', id, status }) })
  scheduler.on('released', () => { agent.poke() })
  scheduler.on('history', (s, entry) => { opts.onSchedule?.(s, entry) })
  // The scheduler first: a catch-up occurrence is on disk before the agent may claim it.
  await scheduler.start()
  await agent.start()
  publish()

  return {
    agent,
    scheduler,
    grants,
    notices: describeSetup(grants, opts.executor, opts.env, agent.noNetwork),
    stop: async () => {
      board.off('tasks-change', publish)
      device.space.awareness.off('change', learnSubscriptions)
      taskPush.stop()
      await scheduler.stop()
      await agent.stop()
    }
  }
}

/** What this desktop will and will not run, in words. */
export function describeSetup (grants: Grants, executor: ExecutorMode, env: NodeJS.ProcessEnv, noNetwork?: NoNetwork): string[] {
  const lines: string[] = []
  const key = env.ANTHROPIC_API_KEY !== undefined && env.ANTHROPIC_API_KEY !== ''
  const folders = [...grants.readWrite.map(f => `${f} (read-write)`), ...grants.readOnly.map(f => `${f} (read-only)`)]
  const folders2 = [...folders, ...(grants.ask ?? []).map(f => `${f} (asks the phone first)`)]
  lines.push(`grants: ${folders2.length > 0 ? folders2.join(', ') : 'no folders'}; terminal ${grants.terminal ? 'on' : 'off'}; network ${grants.network ? 'on' : 'off'}`)
  if (executor !== 'shell' && key) {
    const base = env.ANTHROPIC_BASE_URL !== undefined && env.ANTHROPIC_BASE_URL !== '' ? ` at ${env.ANTHROPIC_BASE_URL}` : ''
    lines.push(`tasks run with Claude (${env.DISPATCH_MODEL || DEFAULT_MODEL}${base}); \`$ <command>\` tasks ${executor === 'claude' ? 'too' : 'run in the shell'}`)
  } else if (executor === 'claude') {
    lines.push('--executor claude needs ANTHROPIC_API_KEY: every task will fail until it is set')
  } else {
    lines.push(`no ANTHROPIC_API_KEY${executor === 'shell' ? ' used (--executor shell)' : ''}: only \`$ <command>\` tasks run; natural-language tasks fail until ANTHROPIC_API_KEY is set`)
  }
  if (!grants.terminal && executor !== 'claude') lines.push('terminal not granted (--terminal): `$ <command>` tasks will be refused')
  if (!grants.network && noNetwork !== undefined && !noNetwork.enforced) lines.push(notEnforcedNotice(noNetwork.reason))
  if (grants.readWrite.length === 0 && grants.readOnly.length === 0) lines.push('no folder granted (--allow DIR / --allow-read DIR): tasks have nowhere to work')
  return lines
}
