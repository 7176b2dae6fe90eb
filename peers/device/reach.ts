// How a verb reaches its home's device: through the holder's control socket when one runs,
// else by opening the home itself for the length of the call.

import { openOrCall } from '../home/access.ts'
import { callControl, serveControl } from '../home/control.ts'
import type { OpenDeviceOptions } from './device.ts'

export interface ReachOptions {
  /** How to open the home when nothing holds it. */
  open: Omit<OpenDeviceOptions, 'home' | 'lock'>
  /** Streamed events; `call` runs another verb on the same device (to answer a 'confirm'). */
  onEvent?: (event: any, call: (verb: string, args: Record<string, unknown>) => Promise<unknown>) => void
  /** While the call runs on a home it opened itself, answer other verbs on the control socket. */
  serve?: boolean
  signal: AbortSignal
}

/** Runs device handler `verb` with `args`, on the holder or on a device opened for it. */
export async function callDevice (home: string, verb: string, args: Record<string, unknown>, options: ReachOptions): Promise<any> {
  const access = await openOrCall(home)
  const onEvent = options.onEvent ?? (() => {})
  if (access.kind === 'holder') {
    const call = async (v: string, a: Record<string, unknown>): Promise<unknown> => await callControl(home, v, a)
    return await callControl(home, verb, args, event => onEvent(event, call), options.signal)
  }
  // Loaded only here: the engine (libp2p) is most of a verb's start-up, and a holder call needs none of it.
  const { openDevice } = await import('./device.ts')
  const { deviceHandlers } = await import('./handlers.ts')
  const device = await openDevice({ ...options.open, home, lock: access.lock })
  const handlers = deviceHandlers(device)
  const server = options.serve === true ? await serveControl(home, handlers) : null
  try {
    // Events go to the caller as they would over the socket; a confirm comes back the same way.
    const call = async (v: string, a: Record<string, unknown>): Promise<unknown> => await handlers[v](a, () => {}, options.signal)
    return await handlers[verb](args, event => onEvent(event, call), options.signal)
  } finally {
    await server?.close()
    await device.close()
  }
}
