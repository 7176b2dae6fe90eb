// `dispatch devices`: the devices paired into this home's space, with online state.

import { callDevice } from '../../device/reach.ts'
import type { Verb } from '../verb.ts'

export const devices: Verb = {
  name: 'devices',
  usage: '',
  summary: 'list paired devices and whether they are online',
  async run (ctx) {
    const list = await callDevice(ctx.home, 'devices', {}, { open: { listen: [], connect: false }, signal: ctx.signal }) as any[]
    if (ctx.json) { ctx.printJson(list); return }
    if (list.length === 0) { ctx.print('no paired devices yet (dispatch pair / dispatch join)'); return }
    for (const d of list) {
      const state = d.revoked === true ? 'revoked' : d.online === true ? 'online' : 'offline'
      ctx.print(`${String(d.name).padEnd(20)} ${String(d.role).padEnd(8)} ${state.padEnd(8)} ${d.peerId}`)
    }
  }
}
