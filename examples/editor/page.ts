// The shared editor's page: CodeMirror 6 bound to a Y.Text by y-codemirror.next, remote cursors
// through the provider's awareness, the engine from 'dispatch-p2p/browser'. It pairs once with
// the always-on device (invite in the URL fragment, or pasted), then reconnects by itself on
// every load; edits made offline stay in IndexedDB and merge when it reconnects.

import { EditorView, keymap } from '@codemirror/view'
import { EditorState } from '@codemirror/state'
import { defaultKeymap } from '@codemirror/commands'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import { createProvider } from 'dispatch-p2p/browser'

const $ = (selector: string): HTMLElement => document.querySelector(selector) as HTMLElement
const say = (text: string): void => { $('#message').textContent = text }

// Who I am to the others: ?name=… or the name kept from last time.
const name = new URLSearchParams(location.search).get('name') ?? localStorage.getItem('editor.name') ?? `guest-${Math.random().toString(36).slice(2, 6)}`
localStorage.setItem('editor.name', name)
const colors = ['#0969da', '#1a7f37', '#9a6700', '#cf222e', '#8250df', '#bf3989']
const color = colors[[...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % colors.length]

// The device key and the document live in IndexedDB; paired devices are remembered.
const provider = await createProvider('editor', { name })
provider.awareness.setLocalStateField('user', { name, color, colorLight: color + '33' })
Object.assign(globalThis, { provider }) // for the console

const ytext = provider.doc.getText('codemirror')
const view = new EditorView({
  parent: $('#editor'),
  state: EditorState.create({
    doc: ytext.toString(),
    extensions: [keymap.of([...yUndoManagerKeymap, ...defaultKeymap]), EditorView.lineWrapping, yCollab(ytext, provider.awareness)]
  })
})
Object.assign(globalThis, { view })

function showStatus (): void {
  $('#status').textContent = provider.status
  $('#status').dataset.status = document.body.dataset.status = provider.status
  $('#synced').textContent = provider.synced ? 'synced' : ''
  const others = Array.from(provider.awareness.getStates()).filter(([id]) => id !== provider.awareness.clientID).map(([, state]) => String(state.user?.name ?? '?'))
  $('#peers').textContent = others.length === 0 ? '' : `here: ${others.join(', ')}`
  $('#me').textContent = `you: ${name}`
  $('#pair-form').hidden = provider.knownAddrs().length > 0
}
provider.on('status', showStatus)
provider.on('synced', showStatus)
provider.on('peers', showStatus)
provider.awareness.on('change', showStatus)
showStatus()

const online = $('#online') as HTMLInputElement
online.addEventListener('change', () => { if (online.checked) provider.connect(); else provider.disconnect() })

async function pair (invite: string): Promise<void> {
  say('pairing…')
  try {
    const desk = await provider.pair(invite.trim())
    say(`Paired with "${desk.name}" (verification code ${desk.code}).`)
    document.body.dataset.paired = '1'
  } catch (err) {
    say(`Pairing failed: ${(err as Error).message}`)
  }
  showStatus()
}

// An invite in the fragment (never sent to the server): pair with it, and drop it from the address bar.
function pairFromFragment (): void {
  const invite = decodeURIComponent(location.hash.slice(1))
  if (!invite.toUpperCase().startsWith('DISPATCH')) return
  history.replaceState(null, '', location.pathname + location.search)
  void pair(invite)
}
addEventListener('hashchange', pairFromFragment)
pairFromFragment()
$('#pair-form').addEventListener('submit', event => {
  event.preventDefault()
  void pair(($('#invite') as HTMLInputElement).value)
})
if (provider.knownAddrs().length > 0) document.body.dataset.paired = '1'
view.focus()
