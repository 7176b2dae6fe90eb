// How a verb reaches the application of its home, as one `DispatchApi` either way: through the
// holder's control socket when a process holds the home, else in-process, on the home opened
// for the length of the call (and, with `serve`, answering other verbs on the socket meanwhile).

import { openOrCall } from '../home/access.ts'
import { homeIsReadOnly, copyForReading } from '../home/read-only.ts'
import { controlClient, serveControl } from '../home/control.ts'
import { API_INPUTS } from '../app/api.ts'
import type { DispatchApi } from '../app/api.ts'
import type { Application } from '../app/application.ts'
import type { Device, OpenDeviceOptions } from './device.ts'

export interface ReachOptions {
  /** How to open the home when nothing holds it. */
  open: Omit<OpenDeviceOptions, 'home' | 'lock'>
  /** While the home is open here, answer other verbs on its control socket. */
  serve?: boolean
  /** The verb only reads: a home this process cannot write is read from a copy of its store, unlocked. */
  readOnly?: boolean
}

export interface ReachedApp {
  api: DispatchApi
  /** 'holder': calls go over the control socket; 'home': the home is open in this process. */
  via: 'holder' | 'home'
  /** Let go of the home (a no-op for the holder's). */
  close (): Promise<void>
}

export async function reachApp (home: string, options: ReachOptions): Promise<ReachedApp> {
  if (options.readOnly === true && await homeIsReadOnly(home)) {
    const copy = await copyForReading(home)
    const held = await openApp({ ...options.open, home, lock: copy.lock, storeDir: copy.store, blobsDir: copy.blobs })
    return { api: held.app, via: 'home', close: async () => await held.close() }
  }
  // Another verb holding the home is said where this verb reports (stderr by default), then waited for.
  const report = options.open.report
  const access = await openOrCall(home, report !== undefined ? { onWait: report } : {})
  if (access.kind === 'holder') return { api: controlClient<DispatchApi>(home, API_INPUTS), via: 'holder', close: async () => {} }
  const held = await openApp({ ...options.open, home, lock: access.lock })
  try {
    const server = options.serve === true ? await serveControl(home, held.app, API_INPUTS) : null
    return {
      api: held.app,
      via: 'home',
      close: async () => {
        await server?.close()
        await held.close()
      }
    }
  } catch (err) {
    await held.close()
    throw err
  }
}

export interface HeldApp {
  device: Device
  /** The use cases on this device; its board is the one a desktop agent runs on. */
  app: Application
  close (): Promise<void>
}

/** Open the home held by `options.lock` and the application on it (for the verbs that hold a home). */
export async function openApp (options: OpenDeviceOptions): Promise<HeldApp> {
  // Loaded only here: the engine (libp2p) is most of a verb's start-up, and a holder call needs none of it.
  const { openDevice } = await import('./device.ts')
  const { Application } = await import('../app/application.ts')
  const device = await openDevice(options)
  const app = new Application(device)
  return { device, app, close: async () => { app.close(); await device.close() } }
}

/** Runs `use` on the home's application and lets go of the home afterwards. */
export async function withApp<T> (home: string, options: ReachOptions, use: (api: DispatchApi) => Promise<T>): Promise<T> {
  const reached = await reachApp(home, options)
  try {
    return await use(reached.api)
  } finally {
    await reached.close()
  }
}
