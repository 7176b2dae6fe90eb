// The pairing confirmation shared by `pair` and `join`: show the other device's name and
// the verification code, ask (unless --yes), and answer the device that asked.

import { askYesNo } from '../prompt.ts'
import type { VerbContext } from '../verb.ts'

export function confirmOnTerminal (ctx: VerbContext) {
  return (event: any, call: (verb: string, args: Record<string, unknown>) => Promise<unknown>): void => {
    if (event?.event !== 'confirm') return
    ctx.note(`pairing with "${event.name}" (${String(event.peerId).slice(-8)}), verification code ${event.code}`)
    void askYesNo('Is the same code shown on the other device?', ctx.signal)
      .then(async ok => await call('confirm', { id: event.id, ok }))
      .catch(() => {})
  }
}
