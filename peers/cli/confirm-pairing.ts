// The pairing confirmation shared by `pair` and `join`: show the other device's name and the
// verification code and ask the person at the terminal (unless --yes: then no question at all).

import type { PairingPrompt } from '../../core/index.ts'
import { askYesNo } from './prompt.ts'
import type { VerbContext } from './verb.ts'

export function confirmOnTerminal (ctx: VerbContext): ((prompt: PairingPrompt) => Promise<boolean>) | undefined {
  if (ctx.values.yes === true) return undefined
  return async prompt => {
    ctx.note(`pairing with "${prompt.name}" (${prompt.peerId.slice(-8)}), verification code ${prompt.code}`)
    return await askYesNo('Is the same code shown on the other device?', ctx.signal)
  }
}
