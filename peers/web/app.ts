// The phone web app's page: pairing (invite in the URL fragment, pasted, or scanned by camera),
// the task list with live log and results, adding and cancelling tasks, answering what a task
// waits for (approve / deny / reply) and following up on a finished one, devices, notifications.
// Every action and every list goes through the application API (`phone.app`): the Add button
// calls the same `add` use case as `dispatch add` (peers/app/tasks.ts); with a schedule chosen,
// `addSchedule`, and the schedule list's buttons `pauseSchedule` / `resumeSchedule` /
// `deleteSchedule`, as `dispatch add --every` and `dispatch schedules` (peers/app/schedules.ts).
// Cards are compact (text and outcome clamped) and open in place into their detail.

import { Phone } from './phone.ts'
import type { TransportChoice } from './phone.ts'
import { askOriginForAddrs } from './origin-addrs.ts'
import { isFinal } from '../app/api.ts'
import type { Attachment, DeviceView, ScheduleView, TaskOutput, TaskSummary } from '../app/api.ts'
import { showSystemNotice, subscribeToPush } from './notifications.ts'

const $ = <T extends HTMLElement>(sel: string): T => document.querySelector(sel) as T

function h (tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string | null>): HTMLElement {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v)
  for (const c of children) if (c !== null) el.append(c)
  return el
}

let phone: Phone
const seenFinal = new Set<string>()
/** What the person is typing into a card (reply, note, follow-up): kept across re-renders. */
const drafts = new Map<string, string>()
/** Cards opened into their detail view. */
const opened = new Set<string>()
/** Tasks added here that no desktop had acknowledged when `add` returned: "sent" once one does. */
const unacknowledged = new Map<string, string>()
/** Device names by peer id, to show names where the log has ids. */
let names = new Map<string, string>()

async function main (): Promise<void> {
  const params = new URLSearchParams(location.search)
  phone = await Phone.open({ transport: (params.get('transport') ?? 'any') as TransportChoice, dbPrefix: params.get('db') ?? undefined })
  phone.on('change', render)
  // Served by a desktop: when a paired desktop is out of reach, ask it (this origin) where it listens now.
  askOriginForAddrs(phone)
  // Completions, as `dispatch watch` gets them; runs for the life of the page.
  phone.app.watch({}, {
    onEvent: event => {
      if (event.event === 'finished') noticeFinished(event.task)
      else if (event.event === 'schedule') noticeFinished({ id: `${event.scheduleId}/${event.entry.slot}/${event.entry.kind}`, status: `schedule ${event.entry.kind}`, text: event.text, result: event.entry.text })
      else if (event.event === 'status' && event.pending !== undefined) notify(`Dispatch: ${event.pending.kind === 'approval' ? 'approval needed' : 'a question'}`, event.pending.kind === 'approval' ? event.pending.summary : event.pending.question)
    }
  })
    .catch((err: Error) => { notice(`Not following tasks: ${err.message}`) })
  document.body.dataset.peer = phone.peerId
  // An invite opened in a tab that is already open only changes the fragment: pair with it too.
  addEventListener('hashchange', () => { const next = takeInvite(); if (next !== null) void pairWith(next) })
  const invite = takeInvite() ?? sessionStorage.getItem(PENDING_INVITE)
  sessionStorage.removeItem(PENDING_INVITE)
  // Not awaited before the forms below are wired: joining ends with a dial that may try the
  // desktop's unreachable LAN addresses before its relayed one, and a tap on Add meanwhile
  // must add the task, not submit the form natively (a reload that loses it).
  const pairing = invite !== null ? pairWith(invite) : undefined
  $('#add').addEventListener('submit', event => { void addTask(event) })
  $('#text').addEventListener('keydown', event => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); ($('#add') as HTMLFormElement).requestSubmit() }
  })
  $('#when').addEventListener('change', () => {
    const kind = ($('#when') as HTMLSelectElement).value
    const input = $('#when-value') as HTMLInputElement
    input.hidden = kind === ''
    input.placeholder = kind === 'every' ? '10m, 1h, 2d' : kind === 'cron' ? '0 9 * * 1-5' : kind === 'at' ? '09:30 or 2026-12-24T09:00' : ''
  })
  $('#pair-another').addEventListener('click', () => { document.body.dataset.pairing = '1'; $('#pair').scrollIntoView(); ($('#invite') as HTMLInputElement).focus() })
  $('#name-form').addEventListener('submit', event => {
    event.preventDefault()
    try {
      phone.rename(($('#device-name') as HTMLInputElement).value)
      notice(`This browser is now "${phone.name}"`)
    } catch (err) { notice(`Not renamed: ${(err as Error).message}`) }
  })
  ;($('#device-name') as HTMLInputElement).value = phone.name
  $('#pair-form').addEventListener('submit', (e) => { e.preventDefault(); void pairWith(($('#invite') as HTMLInputElement).value) })
  $('#scan').addEventListener('click', () => { void scan() })
  $('#notify').addEventListener('click', () => { void Notification.requestPermission().then(render) })
  const tabs = Array.from(document.querySelectorAll<HTMLButtonElement>('nav [role="tab"]'))
  const select = (tab: HTMLButtonElement): void => {
    document.body.dataset.tab = tab.dataset.tab ?? 'tasks'
    for (const t of tabs) { t.setAttribute('aria-selected', String(t === tab)); t.tabIndex = t === tab ? 0 : -1 }
    render()
  }
  for (const tab of tabs) {
    tab.addEventListener('click', () => { select(tab) })
    tab.addEventListener('keydown', event => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0
      if (step === 0) return
      const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length]!
      select(next)
      next.focus()
    })
  }
  // A notification tapped: the service worker names the task (in a message, or `?task=` on a new window).
  const shown = params.get('task')
  if (shown !== null) opened.add(shown)
  navigator.serviceWorker?.addEventListener('message', (event: MessageEvent<{ openTask?: string }>) => {
    const id = event.data?.openTask
    if (typeof id !== 'string') return
    opened.add(id)
    render()
    requestAnimationFrame(() => { document.querySelector(`.task[data-id="${CSS.escape(id)}"]`)?.scrollIntoView({ block: 'center' }) })
  })
  if ('serviceWorker' in navigator && params.get('sw') !== '0') {
    // Without it the page still works; it just does not open with no network.
    navigator.serviceWorker.register('./sw.js').catch((err: Error) => { console.warn(`dispatch: no offline app shell (${err.message})`) })
  }
  render()
  await pairing
  document.body.dataset.ready = '1'
}

/** Kept across the reload that gives a revoked browser a new identity. */
const PENDING_INVITE = 'dispatch.pending-invite'

/** The invite in the URL fragment, if any; dropped from the address bar (and history) at once: pairing spends it anyway. */
function takeInvite (): string | null {
  const invite = decodeURIComponent(location.hash.slice(1))
  if (!invite.startsWith('DISPATCH1:')) return null
  history.replaceState(null, '', location.pathname + location.search)
  return invite
}

async function pairWith (invite: string): Promise<void> {
  const status = $('#pair-status')
  if (phone.revoked) {
    // A revoked identity is refused for good: start again as a new device, then pair.
    status.textContent = 'Starting again as a new device…'
    sessionStorage.setItem(PENDING_INVITE, invite.trim())
    await phone.reset()
    location.reload()
    return
  }
  status.textContent = 'Pairing…'
  try {
    const accepted = await phone.app.join({ invite: invite.trim() }, {
      confirm: async (prompt) => {
        status.textContent = `Pairing with ${prompt.name}: code ${prompt.code}. Check the desktop shows the same code.`
        return true
      }
    })
    phone.clearRefusal()
    document.body.dataset.pairing = '0'
    ;($('#invite') as HTMLInputElement).value = ''
    status.textContent = `Paired with ${accepted.name} (code ${accepted.code}).`
    notice(`Paired with ${accepted.name}`)
  } catch (err) {
    status.textContent = `Pairing failed: ${(err as Error).message}`
  }
  render()
}

async function scan (): Promise<void> {
  const status = $('#pair-status')
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } })
    const video = $('#camera') as HTMLVideoElement
    video.srcObject = stream
    video.hidden = false
    await video.play()
    const text = await readQr(video)
    for (const track of stream.getTracks()) track.stop()
    video.hidden = true
    const at = text.indexOf('DISPATCH1:')
    if (at < 0) { status.textContent = 'That QR code is not a Dispatch invite.'; return }
    await pairWith(decodeURIComponent(text.slice(at)))
  } catch (err) {
    status.textContent = `Camera unavailable (${(err as Error).message}); paste the invite text instead.`
  }
}

type JsQr = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null

/** BarcodeDetector where the browser has it, else jsQR over canvas frames. */
async function readQr (video: HTMLVideoElement): Promise<string> {
  const Detector = (globalThis as unknown as { BarcodeDetector?: new (o: object) => { detect: (s: CanvasImageSource) => Promise<Array<{ rawValue: string }>> } }).BarcodeDetector
  const detector = Detector !== undefined ? new Detector({ formats: ['qr_code'] }) : null
  const jsQR = detector === null ? (await import('jsqr')).default as unknown as JsQr : null
  const canvas = document.createElement('canvas')
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!
  for (;;) {
    await new Promise(resolve => setTimeout(resolve, 200))
    if (detector !== null) {
      const codes = await detector.detect(video)
      if (codes.length > 0) return codes[0].rawValue
    } else if (jsQR !== null && video.videoWidth > 0) {
      canvas.width = video.videoWidth
      canvas.height = video.videoHeight
      ctx.drawImage(video, 0, 0)
      const code = jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height)
      if (code !== null) return code.data
    }
  }
}

/** The Add button: the `add` use case, as `dispatch add`. "Sent" only once the desktop acknowledged it. */
async function addTask (event: Event): Promise<void> {
  event.preventDefault()
  const text = ($('#text') as HTMLTextAreaElement).value.trim()
  const target = ($('#target') as HTMLSelectElement).value
  const folder = ($('#folder') as HTMLInputElement).value.trim()
  const picker = $('#attach') as HTMLInputElement
  if (text === '' || target === '') return
  const when = ($('#when') as HTMLSelectElement).value as '' | 'every' | 'cron' | 'at'
  if (when !== '') { await addScheduled(text, target, folder, when); return }
  try {
    // Into this page's blob store first: the task carries only name, size, type and sha256.
    const attachments: Attachment[] = []
    for (const file of Array.from(picker.files ?? [])) {
      const sha256 = await phone.blobs.put(new Uint8Array(await file.arrayBuffer()))
      attachments.push({ name: file.name.replace(/[/\\]/g, '_') || 'file', size: file.size, type: file.type || 'application/octet-stream', sha256 })
    }
    if (attachments.length > 0) notice(`Sending ${attachments.length} file${attachments.length === 1 ? '' : 's'} with the task…`)
    const result = await phone.app.add({ text, to: target, ...(folder !== '' ? { scope: folder } : {}), ...(attachments.length > 0 ? { attachments } : {}) }, {
      onEvent: e => {
        if (e.event !== 'queued') return
        // Saved on this device: the text can go, the task is not lost.
        ;($('#text') as HTMLTextAreaElement).value = ''
        picker.value = ''
        notice(`Task queued for ${e.targetName}; sending…`)
      }
    })
    if (!result.delivered) unacknowledged.set(result.id, result.targetName)
    notice(result.delivered ? `Task sent: ${result.targetName} has it` : 'Task queued: it will be sent when the desktop is reachable')
  } catch (err) {
    notice(`Not added: ${(err as Error).message}`)
  }
}

/** Add with a schedule: the `addSchedule` use case, as `dispatch add --every/--cron/--at`. */
async function addScheduled (text: string, target: string, folder: string, when: 'every' | 'cron' | 'at'): Promise<void> {
  const value = ($('#when-value') as HTMLInputElement).value.trim()
  if (value === '') { notice(`Not scheduled: say ${when === 'every' ? 'how often' : when === 'cron' ? 'the cron expression' : 'when'}`); return }
  try {
    const r = await phone.app.addSchedule({ text, to: target, [when]: value, ...(folder !== '' ? { scope: folder } : {}) })
    ;($('#text') as HTMLTextAreaElement).value = ''
    ;($('#when-value') as HTMLInputElement).value = ''
    notice(`Scheduled ${r.schedule.when}; next run ${formatTime(r.schedule.nextRunAt)}${r.reached ? '' : ' (sent when the desktop is reachable)'}`)
  } catch (err) {
    notice(`Not scheduled: ${(err as Error).message}`)
  }
}

function formatTime (ms: number | null): string {
  if (ms === null) return '-'
  const d = new Date(ms)
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString()
}

function noticeFinished (task: { id: string, status: string, text: string, result?: string, error?: string }): void {
  if (seenFinal.has(task.id)) return
  seenFinal.add(task.id)
  const title = `Task ${task.status}: ${task.text.slice(0, 60)}`
  const body = (task.result ?? task.error ?? '').slice(0, 200)
  notify(title, body, task.id)
}

/**
 * In the background: a notification through the service worker (tagged with the task, so the
 * desktop's push for the same task does not show twice); in front, or without permission, a notice.
 */
function notify (title: string, body: string, tag?: string): void {
  const inPage = (): void => { notice(body !== '' && tag === undefined ? `${title}: ${body}` : title) }
  if (!document.hidden) { inPage(); return }
  showSystemNotice(title, body, tag).then(shown => { if (!shown) inPage() }, (err: Error) => { console.warn(`dispatch: notification not shown (${err.message})`); inPage() })
}

/** A line in the notices area, under the header: it moves the content down and never covers it. */
function notice (text: string): void {
  const el = h('div', { class: 'notice' }, text)
  const area = $('#notices')
  area.append(el)
  while (area.children.length > 3) area.firstElementChild?.remove()
  setTimeout(() => { el.remove() }, 6000)
}

let rendering = 0

/** Redraw from the API; when changes come faster than a render, only the latest one is drawn. */
function render (): void {
  const generation = ++rendering
  Promise.all([phone.app.devices({ includeSelf: true }), phone.app.tasks({ all: true, detail: true }), phone.app.schedules({})]).then(([devices, tasks, schedules]) => {
    if (generation === rendering) { draw(devices, tasks); renderSchedules(schedules) }
  }, (err: Error) => { notice(`Could not show the tasks: ${err.message}`) })
}

function draw (devices: DeviceView[], tasks: TaskSummary[]): void {
  const desktops = devices.filter(d => d.role === 'desktop' && !d.revoked && !d.self)
  names = new Map(devices.map(d => [d.peerId, d.name]))
  void subscribeToPush(phone, devices)
  document.body.dataset.paired = desktops.length > 0 ? '1' : '0'
  $('#refusal').textContent = phone.refusal ?? ''
  $('#refusal').hidden = phone.refusal === null
  // Revoked: no desktop takes tasks from this browser any more; offer pairing again instead of Add.
  document.body.dataset.revoked = phone.revoked ? '1' : '0'
  $('#add').hidden = phone.revoked
  if (phone.revoked) document.body.dataset.pairing = '1'
  const anyOnline = desktops.some(d => d.online)
  $('#conn').textContent = anyOnline ? 'online' : 'offline'
  $('#conn').className = anyOnline ? 'dot on' : 'dot'
  ;($('#notify') as HTMLButtonElement).hidden = typeof Notification === 'undefined' || Notification.permission !== 'default'
  // Target picker: keep the selection across renders; the default desktop first.
  const select = $('#target') as HTMLSelectElement
  const chosen = select.value
  select.replaceChildren(...desktops.map(d => h('option', { value: d.peerId }, `${d.name}${d.online ? '' : ' (offline)'}`)))
  if (desktops.some(d => d.peerId === chosen)) select.value = chosen
  else { const byDefault = desktops.find(d => d.default); if (byDefault !== undefined) select.value = byDefault.peerId }
  renderTasks(tasks)
  renderDevices(devices)
}

function renderSchedules (schedules: ScheduleView[]): void {
  $('#schedules-box').hidden = schedules.length === 0
  $('#schedules').replaceChildren(...schedules.map(scheduleCard))
}

function scheduleCard (s: ScheduleView): HTMLElement {
  const target = s.targetName ?? s.target.slice(-6)
  const next = s.paused ? 'paused' : s.nextRunAt === null ? 'no more runs' : `next ${formatTime(s.nextRunAt)}`
  const last = s.last === null ? 'never ran' : `last ${formatTime(s.last.slot)}: ${s.last.status}${s.last.kind === 'skipped' || s.last.kind === 'error' ? ` (${s.last.text})` : ''}`
  const card = h('article', { class: `schedule${s.paused ? ' paused' : ''}`, 'data-id': s.id, 'data-paused': s.paused ? '1' : '0' },
    h('header', {}, h('span', { class: 'when' }, s.when), h('span', { class: 'target' }, `→ ${target}`)),
    h('p', { class: 'text' }, s.text),
    h('p', { class: 'next' }, next),
    h('p', { class: 'last' }, last))
  if (s.createdBy === phone.peerId) {
    const toggle = h('button', { class: s.paused ? 'resume' : 'pause' }, s.paused ? 'Resume' : 'Pause')
    toggle.addEventListener('click', () => {
      const call = s.paused ? phone.app.resumeSchedule({ id: s.id }) : phone.app.pauseSchedule({ id: s.id })
      call.then(() => { render() }, (err: Error) => { notice(`Not changed: ${err.message}`) })
    })
    const remove = h('button', { class: 'delete' }, 'Delete')
    remove.addEventListener('click', () => {
      if (!confirm(`Delete the schedule "${s.text.slice(0, 40)}"? Its past runs stay in the list.`)) return
      phone.app.deleteSchedule({ id: s.id }).then(() => { render() }, (err: Error) => { notice(`Not deleted: ${err.message}`) })
    })
    card.append(h('div', { class: 'row' }, toggle, remove))
  }
  return card
}

function renderTasks (tasks: TaskSummary[]): void {
  const list = $('#tasks')
  if (tasks.length === 0) { list.replaceChildren(h('p', { class: 'empty' }, 'No tasks yet. Add one above: try “$ ls”.')); return }
  // A re-render replaces the cards: give the focus (and caret) back to the field being typed in.
  const active = document.activeElement as HTMLInputElement | null
  const typing = active?.dataset?.draft
  const caret = active?.selectionStart ?? null
  for (const [id, targetName] of unacknowledged) {
    const t = tasks.find(task => task.id === id)
    if (t === undefined) { unacknowledged.delete(id); continue }
    if (t.received) { unacknowledged.delete(id); notice(`Task sent: ${targetName} has it`) }
  }
  list.replaceChildren(...tasks.map(taskCard))
  if (typing !== undefined) {
    const again = list.querySelector<HTMLInputElement>(`input[data-draft="${CSS.escape(typing)}"]`)
    again?.focus()
    if (again !== null && caret !== null) again.setSelectionRange(caret, caret)
  }
}

function taskCard (task: TaskSummary): HTMLElement {
  const target = task.targetName ?? names.get(task.target) ?? task.target.slice(-6)
  const isOpen = opened.has(task.id)
  const card = h('article', { class: `task ${task.status}${isOpen ? ' open' : ''}`, 'data-id': task.id, 'data-status': task.status },
    h('header', {},
      h('span', { class: `status ${task.status}` }, task.status),
      task.verified === false ? h('span', { class: 'unverified', title: 'No signed receipt from its desktop proves this outcome' }, 'unverified') : null,
      h('span', { class: 'target' }, `→ ${target}`),
      h('time', {}, new Date(task.createdAt).toLocaleTimeString())),
    h('p', { class: 'text clamp' }, task.text))
  if (unacknowledged.has(task.id) && !task.received) card.append(h('p', { class: 'receipt' }, 'saved here; not yet received by the desktop'))
  const log = task.log ?? []
  // While it runs, the newest line of its output (or progress), one line.
  const last = log.at(-1)
  if (!isFinal(task.status) && last !== undefined) card.append(h('p', { class: 'live clamp' }, withNames(last.text.split('\n').at(-1) ?? '')))
  if (task.result !== null) card.append(h('pre', { class: 'result clamp' }, task.result))
  if (task.error !== null) card.append(h('pre', { class: 'error clamp' }, task.error))
  const finished = isFinal(task.status)
  if (task.pending !== undefined) card.append(requestBox(task))
  if (!finished && !task.cancelRequested && task.createdBy === phone.peerId) {
    const cancel = h('button', { class: 'cancel', type: 'button' }, 'Cancel')
    cancel.addEventListener('click', () => {
      phone.app.cancel({ id: task.id }).catch((err: Error) => { notice(`Not cancelled: ${err.message}`) })
    })
    card.append(cancel)
  } else if (task.cancelRequested && !finished) {
    card.append(h('p', { class: 'scope' }, 'cancel requested…'))
  }
  // The detail view: folder, outputs, the whole log, follow-up; the clamps come off while open.
  const outputs = task.outputs ?? []
  const detail = h('details', { class: 'detail' }, h('summary', { class: 'open-detail' }, isOpen ? 'Less' : `Details${outputs.length > 0 ? ` · ${outputs.length} file${outputs.length === 1 ? '' : 's'}` : ''}${log.length > 0 ? ` · log ${log.length}` : ''}`))
  if (isOpen) detail.setAttribute('open', '')
  detail.addEventListener('toggle', () => {
    const now = (detail as HTMLDetailsElement).open
    if (now === opened.has(task.id)) return
    if (now) opened.add(task.id); else opened.delete(task.id)
    card.classList.toggle('open', now)
    render()
  })
  if (task.scope !== undefined) detail.append(h('p', { class: 'scope' }, `in ${task.scope}`))
  if (outputs.length > 0) {
    detail.append(h('ul', { class: 'outputs' }, ...outputs.map(o => h('li', {}, `${o.path} (${o.size} bytes)`,
      o.text !== undefined ? h('pre', {}, o.text.slice(0, 4000)) : downloadButton(task.id, o)))))
  }
  if (log.length > 0) {
    detail.append(h('pre', { class: 'log' }, log.slice(-200).map(e => `${new Date(e.at).toLocaleTimeString()} ${e.kind}: ${withNames(e.text)}`).join('\n')))
  }
  if (finished) detail.append(followUpBox(task))
  card.append(detail)
  return card
}

/** A log line with the devices' names where it has their peer ids. */
function withNames (text: string): string {
  let out = text
  for (const [peer, name] of names) if (out.includes(peer)) out = out.split(peer).join(`"${name}"`)
  return out
}

/** An output too big for the document: fetched from the desktop on demand (verified by sha256), then saved. */
function downloadButton (taskId: string, o: TaskOutput): HTMLElement {
  const button = h('button', { class: 'download', 'data-sha256': o.sha256 }, 'Download')
  button.addEventListener('click', () => {
    button.textContent = 'Fetching…'
    phone.app.fetchOutputs({ id: taskId }).then(async () => {
      const bytes = await phone.blobs.read(o.sha256, 0, o.size)
      const link = h('a', { href: URL.createObjectURL(new Blob([bytes as BlobPart])), download: o.path.split('/').pop() ?? 'output' }) as HTMLAnchorElement
      link.click()
      button.textContent = 'Download'
    }, (err: Error) => { button.textContent = 'Download'; notice(`Not downloaded: ${err.message}`) })
  })
  return button
}

/** A text field whose value survives re-renders (keyed by task and purpose). */
function draftInput (key: string, cls: string, placeholder: string): HTMLInputElement {
  const input = h('input', { class: cls, type: 'text', placeholder, 'aria-label': placeholder, 'data-draft': key }) as HTMLInputElement
  input.value = drafts.get(key) ?? ''
  input.addEventListener('input', () => { drafts.set(key, input.value) })
  return input
}

/** What the task waits for, with the answers: allow once / for this task / deny with a note, or a reply. */
function requestBox (task: TaskSummary): HTMLElement {
  const p = task.pending!
  const box = h('div', { class: 'request', 'data-request': p.id })
  const failed = (what: string) => (err: Error) => { notice(`${what}: ${err.message}`) }
  const sent = (r: { delivered: boolean }) => { notice(r.delivered ? 'Answer sent' : 'Answer saved: it is sent when the desktop is reachable') }
  if (p.kind === 'approval') {
    box.append(h('p', { class: 'ask' }, 'Wants to run: ', h('code', {}, p.summary)), h('p', { class: 'scope' }, p.reason))
    const note = draftInput(`${task.id}:note`, 'note', 'Note for Claude (optional)')
    const once = h('button', { class: 'approve primary' }, 'Allow once')
    const forTask = h('button', { class: 'approve-task' }, 'Allow for this task')
    const deny = h('button', { class: 'deny' }, 'Deny')
    once.addEventListener('click', () => { phone.app.approve({ id: task.id }).then(sent, failed('Not approved')) })
    forTask.addEventListener('click', () => { phone.app.approve({ id: task.id, forTask: true }).then(sent, failed('Not approved')) })
    deny.addEventListener('click', () => {
      const text = note.value.trim()
      phone.app.deny({ id: task.id, ...(text !== '' ? { note: text } : {}) }).then(r => { drafts.delete(`${task.id}:note`); sent(r) }, failed('Not denied'))
    })
    box.append(h('div', { class: 'answers' }, once, forTask, deny), note)
  } else {
    box.append(h('p', { class: 'ask' }, 'Asks: ', p.question))
    const input = draftInput(`${task.id}:reply`, 'reply-text', 'Your answer')
    const send = h('button', { class: 'reply primary' }, 'Reply')
    send.addEventListener('click', () => {
      if (input.value.trim() === '') return
      phone.app.reply({ id: task.id, text: input.value }).then(() => { drafts.delete(`${task.id}:reply`); notice('Answer saved') }, failed('Not answered'))
    })
    box.append(input, send)
  }
  return box
}

/** A finished task continues with a follow-up (a new task that carries its conversation). */
function followUpBox (task: TaskSummary): HTMLElement {
  const input = draftInput(`${task.id}:follow`, 'follow-text', 'Follow up…')
  const send = h('button', { class: 'follow-up' }, 'Send')
  send.addEventListener('click', () => {
    if (input.value.trim() === '') return
    phone.app.reply({ id: task.id, text: input.value }).then(r => {
      drafts.delete(`${task.id}:follow`)
      notice(r.kind === 'follow-up' && r.delivered ? `Follow-up sent: ${r.targetName} has it` : 'Follow-up queued')
      render()
    }, (err: Error) => { notice(`Not sent: ${err.message}`) })
  })
  return h('div', { class: 'follow' }, input, send)
}

function renderDevices (devices: DeviceView[]): void {
  const list = $('#devices')
  list.replaceChildren(...devices.map(d => {
    const state = d.revoked ? 'revoked' : d.self ? 'this browser' : d.online ? 'online' : 'offline'
    const row = h('li', { 'data-id': d.peerId }, h('span', { class: `dot ${state === 'online' || d.self ? 'on' : ''}` }, ''),
      h('strong', {}, d.name), h('span', { class: 'role' }, ` ${d.role} · ${state}`))
    if (!d.self && !d.revoked) {
      const revoke = h('button', { class: 'revoke' }, 'Revoke')
      revoke.addEventListener('click', () => {
        if (!confirm(`Revoke ${d.name}? It will be refused from now on.`)) return
        phone.app.revoke({ device: d.peerId }).catch((err: Error) => { notice(`Not revoked: ${err.message}`) })
      })
      row.append(revoke)
    }
    return row
  }))
}

main().catch((err: Error) => {
  document.body.dataset.ready = 'error'
  $('#refusal').hidden = false
  $('#refusal').textContent = `Dispatch could not start: ${err.message}`
})
