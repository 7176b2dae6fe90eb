// The phone web app's page: pairing (invite in the URL fragment, pasted, or scanned by camera),
// the task list with live log and results, adding and cancelling tasks, devices, notifications.

import { Phone } from './phone.ts'
import type { TransportChoice } from './phone.ts'
import type { Task } from '../tasks/task-board.ts'
import { isFinal } from '../tasks/task-rules.ts'

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
  for (const t of phone.board.list()) if (isFinal(t.status)) seenFinal.add(t.id)
  phone.on('change', render)
  phone.board.on('tasks-change', noticeFinished)
  document.body.dataset.peer = phone.peerId
  const invite = decodeURIComponent(location.hash.slice(1))
  if (invite.startsWith('DISPATCH1:')) {
    // Drop the secret from the address bar (and history) at once; it is spent by pairing anyway.
    history.replaceState(null, '', location.pathname + location.search)
    await pairWith(invite)
  }
  $('#add').addEventListener('submit', addTask)
  $('#pair-form').addEventListener('submit', (e) => { e.preventDefault(); void pairWith(($('#invite') as HTMLInputElement).value) })
  $('#scan').addEventListener('click', () => { void scan() })
  $('#notify').addEventListener('click', () => { void Notification.requestPermission().then(render) })
  for (const tab of document.querySelectorAll<HTMLButtonElement>('nav button')) {
    tab.addEventListener('click', () => { document.body.dataset.tab = tab.dataset.tab ?? 'tasks'; render() })
  }
  if ('serviceWorker' in navigator && params.get('sw') !== '0') navigator.serviceWorker.register('./sw.js').catch(() => {})
  render()
  document.body.dataset.ready = '1'
}

async function pairWith (invite: string): Promise<void> {
  const status = $('#pair-status')
  status.textContent = 'Pairing…'
  try {
    const accepted = await phone.pair(invite, async (prompt) => {
      status.textContent = `Pairing with ${prompt.name}: code ${prompt.code}. Check the desktop shows the same code.`
      return true
    })
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

function addTask (event: Event): void {
  event.preventDefault()
  const text = ($('#text') as HTMLTextAreaElement).value.trim()
  const target = ($('#target') as HTMLSelectElement).value
  const folder = ($('#folder') as HTMLInputElement).value.trim()
  if (text === '' || target === '') return
  try {
    phone.board.addTask({ text, target, ...(folder !== '' ? { scope: folder } : {}) })
    ;($('#text') as HTMLTextAreaElement).value = ''
    notice(phone.online(target) ? 'Task sent' : 'Task queued: it will be sent when the desktop is reachable')
  } catch (err) {
    notice(`Not added: ${(err as Error).message}`)
  }
}

function noticeFinished (ids: string[]): void {
  for (const id of ids) {
    const task = phone.board.get(id)
    if (task === undefined || !isFinal(task.status) || seenFinal.has(id)) continue
    seenFinal.add(id)
    const title = `Task ${task.status}: ${task.text.slice(0, 60)}`
    const body = (task.result ?? task.error ?? '').slice(0, 200)
    if (document.hidden && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
      new Notification(title, { body, tag: id }) // eslint-disable-line no-new
    } else {
      notice(title)
    }
  }
}

function notice (text: string): void {
  const el = h('div', { class: 'notice', role: 'status' }, text)
  $('#notices').append(el)
  setTimeout(() => { el.remove() }, 6000)
}

function render (): void {
  const paired = phone.isPaired()
  document.body.dataset.paired = paired ? '1' : '0'
  $('#refusal').textContent = phone.refusal ?? ''
  $('#refusal').hidden = phone.refusal === null
  const desktops = phone.board.devices().filter(d => d.role === 'desktop' && d.revokedAt === undefined)
  const anyOnline = desktops.some(d => phone.online(d.id))
  $('#conn').textContent = anyOnline ? 'online' : 'offline'
  $('#conn').className = anyOnline ? 'dot on' : 'dot'
  ;($('#notify') as HTMLButtonElement).hidden = typeof Notification === 'undefined' || Notification.permission !== 'default'
  // Target picker: keep the selection across renders.
  const select = $('#target') as HTMLSelectElement
  const chosen = select.value
  select.replaceChildren(...desktops.map(d => h('option', { value: d.id }, `${d.name}${phone.online(d.id) ? '' : ' (offline)'}`)))
  if (desktops.some(d => d.id === chosen)) select.value = chosen
  renderTasks()
  renderDevices()
}

function renderTasks (): void {
  const tasks = phone.board.list().reverse()
  const list = $('#tasks')
  if (tasks.length === 0) { list.replaceChildren(h('p', { class: 'empty' }, 'No tasks yet. Add one above: try “$ ls”.')); return }
  list.replaceChildren(...tasks.map(taskCard))
}

function taskCard (task: Task): HTMLElement {
  const target = phone.board.device(task.target)?.name ?? task.target.slice(-6)
  const card = h('article', { class: `task ${task.status}`, 'data-id': task.id, 'data-status': task.status },
    h('header', {},
      h('span', { class: `status ${task.status}` }, task.status),
      h('span', { class: 'target' }, `→ ${target}`),
      h('time', {}, new Date(task.createdAt).toLocaleTimeString())),
    h('p', { class: 'text' }, task.text))
  if (task.scope !== undefined) card.append(h('p', { class: 'scope' }, `in ${task.scope}`))
  if (task.result !== undefined) card.append(h('pre', { class: 'result' }, task.result))
  if (task.error !== undefined) card.append(h('pre', { class: 'error' }, task.error))
  if (task.outputs.length > 0) {
    card.append(h('ul', { class: 'outputs' }, ...task.outputs.map(o => h('li', {}, `${o.path} (${o.size} bytes)`,
      o.text !== undefined ? h("pre", {}, o.text.slice(0, 4000)) : null))))
  }
  const log = phone.board.log(task.id)
  if (log.length > 0) {
    const details = h('details', { class: 'log' }, h('summary', {}, `Log (${log.length})`),
      h('pre', {}, log.slice(-200).map(e => `${new Date(e.at).toLocaleTimeString()} ${e.kind}: ${e.text}`).join('\n')))
    if (open.has(task.id) || task.status === 'running') details.setAttribute('open', '')
    details.addEventListener('toggle', () => { if ((details as HTMLDetailsElement).open) open.add(task.id); else open.delete(task.id) })
    card.append(details)
  }
  if (!isFinal(task.status) && !task.cancelRequested && task.createdBy === phone.peerId) {
    const cancel = h('button', { class: 'cancel' }, 'Cancel')
    cancel.addEventListener('click', () => { phone.board.requestCancel(task.id) })
    card.append(cancel)
  } else if (task.cancelRequested && !isFinal(task.status)) {
    card.append(h('p', { class: 'scope' }, 'cancel requested…'))
  }
  return card
}

function renderDevices (): void {
  const list = $('#devices')
  const devices = phone.board.devices()
  list.replaceChildren(...devices.map(d => {
    const self = d.id === phone.peerId
    const state = d.revokedAt !== undefined ? 'revoked' : self ? 'this browser' : phone.online(d.id) ? 'online' : 'offline'
    const row = h('li', { 'data-id': d.id }, h('span', { class: `dot ${state === 'online' || self ? 'on' : ''}` }, ''),
      h('strong', {}, d.name), h('span', { class: 'role' }, ` ${d.role} · ${state}`))
    if (!self && d.revokedAt === undefined) {
      const revoke = h('button', { class: 'revoke' }, 'Revoke')
      revoke.addEventListener('click', () => {
        if (!confirm(`Revoke ${d.name}? It will be refused from now on.`)) return
        phone.space.members.revoke(d.id, phone.peerId)
        void phone.node.forget(d.id)
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
