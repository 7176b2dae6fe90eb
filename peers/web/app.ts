// The phone web app's page: pairing (invite in the URL fragment, pasted, or scanned by camera),
// the task list with live log and results, adding and cancelling tasks, devices, notifications.
// Every action and every list goes through the application API (`phone.app`): the Add button
// calls the same `add` use case as `dispatch add` (peers/app/tasks.ts).

import { Phone } from './phone.ts'
import type { TransportChoice } from './phone.ts'
import { isFinal } from '../app/api.ts'
import type { DeviceView, TaskSummary } from '../app/api.ts'

const $ = <T extends HTMLElement>(sel: string): T => document.querySelector(sel) as T

function h (tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string | null>): HTMLElement {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v)
  for (const c of children) if (c !== null) el.append(c)
  return el
}

let phone: Phone
const seenFinal = new Set<string>()
let open = new Set<string>()

async function main (): Promise<void> {
  const params = new URLSearchParams(location.search)
  phone = await Phone.open({ transport: (params.get('transport') ?? 'any') as TransportChoice, dbPrefix: params.get('db') ?? undefined })
  phone.on('change', render)
  // Completions, as `dispatch watch` gets them; runs for the life of the page.
  phone.app.watch({}, { onEvent: event => { if (event.event === 'finished') noticeFinished(event.task) } })
    .catch((err: Error) => { notice(`Not following tasks: ${err.message}`) })
  document.body.dataset.peer = phone.peerId
  const invite = decodeURIComponent(location.hash.slice(1))
  if (invite.startsWith('DISPATCH1:')) {
    // Drop the secret from the address bar (and history) at once; it is spent by pairing anyway.
    history.replaceState(null, '', location.pathname + location.search)
    await pairWith(invite)
  }
  $('#add').addEventListener('submit', event => { void addTask(event) })
  $('#pair-form').addEventListener('submit', (e) => { e.preventDefault(); void pairWith(($('#invite') as HTMLInputElement).value) })
  $('#scan').addEventListener('click', () => { void scan() })
  $('#notify').addEventListener('click', () => { void Notification.requestPermission().then(render) })
  for (const tab of document.querySelectorAll<HTMLButtonElement>('nav button')) {
    tab.addEventListener('click', () => { document.body.dataset.tab = tab.dataset.tab ?? 'tasks'; render() })
  }
  if ('serviceWorker' in navigator && params.get('sw') !== '0') {
    // Without it the page still works; it just does not open with no network.
    navigator.serviceWorker.register('./sw.js').catch((err: Error) => { console.warn(`dispatch: no offline app shell (${err.message})`) })
  }
  render()
  document.body.dataset.ready = '1'
}

async function pairWith (invite: string): Promise<void> {
  const status = $('#pair-status')
  status.textContent = 'Pairing…'
  try {
    const accepted = await phone.app.join({ invite: invite.trim() }, {
      confirm: async (prompt) => {
        status.textContent = `Pairing with ${prompt.name}: code ${prompt.code}. Check the desktop shows the same code.`
        return true
      }
    })
    phone.clearRefusal()
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
  if (text === '' || target === '') return
  try {
    const result = await phone.app.add({ text, to: target, ...(folder !== '' ? { scope: folder } : {}) }, {
      onEvent: e => {
        if (e.event !== 'queued') return
        // Saved on this device: the text can go, the task is not lost.
        ;($('#text') as HTMLTextAreaElement).value = ''
        notice(`Task queued for ${e.targetName}; sending…`)
      }
    })
    notice(result.delivered ? `Task sent: ${result.targetName} has it` : 'Task queued: it will be sent when the desktop is reachable')
  } catch (err) {
    notice(`Not added: ${(err as Error).message}`)
  }
}

function noticeFinished (task: { id: string, status: string, text: string, result?: string, error?: string }): void {
  if (seenFinal.has(task.id)) return
  seenFinal.add(task.id)
  const title = `Task ${task.status}: ${task.text.slice(0, 60)}`
  const body = (task.result ?? task.error ?? '').slice(0, 200)
  if (document.hidden && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
    new Notification(title, { body, tag: task.id }) // eslint-disable-line no-new
  } else {
    notice(title)
  }
}

function notice (text: string): void {
  const el = h('div', { class: 'notice', role: 'status' }, text)
  $('#notices').append(el)
  setTimeout(() => { el.remove() }, 6000)
}

let rendering = 0

/** Redraw from the API; when changes come faster than a render, only the latest one is drawn. */
function render (): void {
  const generation = ++rendering
  Promise.all([phone.app.devices({ includeSelf: true }), phone.app.tasks({ all: true, detail: true })]).then(([devices, tasks]) => {
    if (generation === rendering) draw(devices, tasks)
  }, (err: Error) => { notice(`Could not show the tasks: ${err.message}`) })
}

function draw (devices: DeviceView[], tasks: TaskSummary[]): void {
  const desktops = devices.filter(d => d.role === 'desktop' && !d.revoked && !d.self)
  document.body.dataset.paired = desktops.length > 0 ? '1' : '0'
  $('#refusal').textContent = phone.refusal ?? ''
  $('#refusal').hidden = phone.refusal === null
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

function renderTasks (tasks: TaskSummary[]): void {
  const list = $('#tasks')
  if (tasks.length === 0) { list.replaceChildren(h('p', { class: 'empty' }, 'No tasks yet. Add one above: try “$ ls”.')); return }
  list.replaceChildren(...tasks.map(taskCard))
}

function taskCard (task: TaskSummary): HTMLElement {
  const target = task.targetName ?? task.target.slice(-6)
  const card = h('article', { class: `task ${task.status}`, 'data-id': task.id, 'data-status': task.status },
    h('header', {},
      h('span', { class: `status ${task.status}` }, task.status),
      task.verified === false ? h('span', { class: 'unverified', title: 'No signed receipt from its desktop proves this outcome' }, 'unverified') : null,
      h('span', { class: 'target' }, `→ ${target}`),
      h('time', {}, new Date(task.createdAt).toLocaleTimeString())),
    h('p', { class: 'text' }, task.text))
  if (task.scope !== undefined) card.append(h('p', { class: 'scope' }, `in ${task.scope}`))
  if (task.result !== null) card.append(h('pre', { class: 'result' }, task.result))
  if (task.error !== null) card.append(h('pre', { class: 'error' }, task.error))
  const outputs = task.outputs ?? []
  if (outputs.length > 0) {
    card.append(h('ul', { class: 'outputs' }, ...outputs.map(o => h('li', {}, `${o.path} (${o.size} bytes)`,
      o.text !== undefined ? h('pre', {}, o.text.slice(0, 4000)) : null))))
  }
  const log = task.log ?? []
  if (log.length > 0) {
    const details = h('details', { class: 'log' }, h('summary', {}, `Log (${log.length})`),
      h('pre', {}, log.slice(-200).map(e => `${new Date(e.at).toLocaleTimeString()} ${e.kind}: ${e.text}`).join('\n')))
    if (open.has(task.id) || task.status === 'running') details.setAttribute('open', '')
    details.addEventListener('toggle', () => { if ((details as HTMLDetailsElement).open) open.add(task.id); else open.delete(task.id) })
    card.append(details)
  }
  const finished = isFinal(task.status)
  if (!finished && !task.cancelRequested && task.createdBy === phone.peerId) {
    const cancel = h('button', { class: 'cancel' }, 'Cancel')
    cancel.addEventListener('click', () => {
      phone.app.cancel({ id: task.id }).catch((err: Error) => { notice(`Not cancelled: ${err.message}`) })
    })
    card.append(cancel)
  } else if (task.cancelRequested && !finished) {
    card.append(h('p', { class: 'scope' }, 'cancel requested…'))
  }
  return card
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
