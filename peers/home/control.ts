// The control channel: the process holding a home answers the application API over a Unix
// socket inside it (owner-only), for the verbs run meanwhile. The protocol is derived from the
// API's type: a method is one of its names, its input is checked by that method's parser before
// anything runs, events and confirmations are typed by the method. JSON lines:
//
//   -> {"id":1,"method":"add","input":{...},"confirms":true}
//   <- {"id":1,"event":{...}}                                  zero or more (streaming use cases)
//   <- {"id":1,"confirm":{"ask":1,"peerId","name","code"}}     the use case asks the caller (pairing)
//   -> {"id":1,"answer":1,"ok":true}
//   <- {"id":1,"ok":true,"result":...}   or   {"id":1,"ok":false,"error":{"name","message"}}

import { createServer, createConnection } from 'node:net'
import type { Socket } from 'node:net'
import { rm, chmod } from 'node:fs/promises'
import type { PairingPrompt } from '../../core/index.ts'
import type { CallOptions, EventOf, InputOf, InputParsers, ResultOf } from '../app/api.ts'
import { homeLayout, ensureHomeDir } from './layout.ts'

/** A line longer than this (in characters) closes the connection: no one sends that much by accident. */
export const MAX_CONTROL_LINE_CHARS = 1024 * 1024

export interface ControlServer {
  socketPath: string
  close (): Promise<void>
}

/** A request for a method the holder does not have. */
export class UnknownMethodError extends Error {
  name = 'UnknownMethodError'
}

/** A line that is not a request. */
export class BadRequestError extends Error {
  name = 'BadRequestError'
}

/** The holder went away (or the socket broke) before answering. */
export class HolderGoneError extends Error {
  name = 'HolderGoneError'
}

/** The holder answered with this error; `name` and `message` are the holder's. */
export class RemoteError extends Error {
  constructor (name: string, message: string) {
    super(message)
    this.name = name
  }
}

/** Any method of an API, as the transport calls it once the input has been checked. */
type AnyMethod = (input: unknown, options?: CallOptions<unknown>) => Promise<unknown>

/** Serves `api` on the home's control socket; `inputs` checks each request. Call only while holding the home's lock. */
export async function serveControl<Api extends object> (home: string, api: Api, inputs: InputParsers<Api>): Promise<ControlServer> {
  const layout = await ensureHomeDir(home)
  const path = layout.controlSocket
  // A socket file left by a holder that died; we hold the lock, so it is nobody's.
  await rm(path, { force: true })
  const connections = new Set<Socket>()
  const server = createServer(socket => {
    connections.add(socket)
    socket.on('close', () => connections.delete(socket))
    serveConnection(socket, api, inputs)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => { server.off('error', reject); resolve() })
  })
  // After listening, errors belong to single connections (each has its own handler); the server
  // itself has nothing left to fail on, and an 'error' without a listener would end the process.
  server.on('error', () => {})
  await chmod(path, 0o600)
  return {
    socketPath: path,
    async close () {
      await new Promise<void>(resolve => {
        server.close(() => resolve())
        for (const socket of connections) socket.destroy()
      })
    }
  }
}

interface Request { id: string | number, method: string, input?: unknown, confirms?: boolean }

function serveConnection<Api extends object> (socket: Socket, api: Api, inputs: InputParsers<Api>): void {
  const calls = new Map<string | number, { abort: AbortController, answers: Map<number, (ok: boolean) => void> }>()
  const send = (message: unknown): void => {
    if (!socket.writable) return
    socket.write(JSON.stringify(message) + '\n')
  }
  socket.on('close', () => { for (const call of calls.values()) call.abort.abort() })
  // A broken socket ends in 'close' (which aborts its calls); the error itself has no one to tell.
  socket.on('error', () => {})
  readLines(socket, line => {
    let message: Record<string, unknown>
    try {
      message = JSON.parse(line)
      if (typeof message !== 'object' || message === null || !['string', 'number'].includes(typeof message.id)) throw new Error('expected {id, method, input}')
    } catch (err) {
      send({ id: null, ok: false, error: { name: 'BadRequestError', message: `bad control request: ${(err as Error).message}` } })
      return
    }
    const id = message.id as string | number
    if (typeof message.answer === 'number') {
      calls.get(id)?.answers.get(message.answer)?.(message.ok === true)
      return
    }
    if (typeof message.method !== 'string') {
      send({ id, ok: false, error: { name: 'BadRequestError', message: 'bad control request: expected {id, method, input}' } })
      return
    }
    const request = message as unknown as Request
    const method = request.method
    if (!Object.hasOwn(inputs, method)) {
      send({ id, ok: false, error: { name: 'UnknownMethodError', message: `the running dispatch does not handle "${method}"` } })
      return
    }
    const name = method as keyof Api
    const abort = new AbortController()
    const answers = new Map<number, (ok: boolean) => void>()
    calls.set(id, { abort, answers })
    let asked = 0
    const options: CallOptions<unknown> = {
      signal: abort.signal,
      onEvent: event => { if (!abort.signal.aborted) send({ id, event }) },
      ...(request.confirms === true
        ? {
            confirm: async (prompt: PairingPrompt) => await new Promise<boolean>(resolve => {
              const ask = ++asked
              answers.set(ask, ok => { answers.delete(ask); resolve(ok) })
              abort.signal.addEventListener('abort', () => resolve(false), { once: true })
              send({ id, confirm: { ask, peerId: prompt.peerId, name: prompt.name, code: prompt.code } })
            })
          }
        : {})
    }
    // A use case's failure goes back to the caller; it never takes the holder down.
    Promise.resolve()
      .then(async () => {
        const input = inputs[name](request.input)
        // The input was checked by this very method's parser just above.
        return await (api[name] as unknown as AnyMethod).call(api, input, options)
      })
      .then(result => send({ id, ok: true, result: result ?? null }),
        (err: unknown) => send({ id, ok: false, error: errorToWire(err) }))
      .finally(() => calls.delete(id))
  })
}

/** Calls `method` on the holder; events go to `options.onEvent`, confirmations to `options.confirm`; resolves with the result. */
export async function callControl<Api, M extends keyof Api & string> (
  home: string, method: M, input: InputOf<Api[M]>, options: CallOptions<EventOf<Api[M]>> = {}
): Promise<ResultOf<Api[M]>> {
  const { signal, onEvent, confirm } = options
  const socket = await connect(homeLayout(home).controlSocket)
  return await new Promise((resolve, reject) => {
    let settled = false
    const finish = (fn: () => void): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      fn()
    }
    const onAbort = (): void => finish(() => reject(signal?.reason ?? new Error('aborted')))
    signal?.addEventListener('abort', onAbort)
    if (signal?.aborted === true) { onAbort(); return }
    socket.on('error', err => finish(() => reject(new HolderGoneError(`lost the running dispatch: ${err.message}`))))
    socket.on('close', () => finish(() => reject(new HolderGoneError('the running dispatch went away before answering'))))
    readLines(socket, line => {
      let message: Record<string, unknown>
      try {
        message = JSON.parse(line)
      } catch {
        // The holder is this same program; a line it garbled is dropped, and the call ends on its result or on close.
        return
      }
      if (message?.id !== 1 || settled) return
      // The caller's listeners must not throw out of a socket handler: a throw fails the call instead.
      try {
        if ('event' in message) {
          onEvent?.(message.event as EventOf<Api[M]>)
        } else if ('confirm' in message) {
          const prompt = message.confirm as PairingPrompt & { ask: number }
          ;(confirm ?? (async () => true))({ peerId: prompt.peerId, name: prompt.name, code: prompt.code }).then(
            ok => { if (!settled) socket.write(JSON.stringify({ id: 1, answer: prompt.ask, ok }) + '\n') },
            (err: Error) => finish(() => reject(err)))
        } else if (message.ok === true) {
          finish(() => resolve(message.result as ResultOf<Api[M]>))
        } else {
          const { name, message: text } = (message.error ?? {}) as { name?: unknown, message?: unknown }
          finish(() => reject(new RemoteError(String(name ?? 'Error'), String(text ?? 'unknown error'))))
        }
      } catch (err) {
        finish(() => reject(err))
      }
    }, () => finish(() => reject(new HolderGoneError('the running dispatch sent an oversized line'))))
    socket.write(JSON.stringify({ id: 1, method, input, confirms: confirm !== undefined }) + '\n')
  })
}

/** The API of the process holding `home`, as an object of the same type: each method is a `callControl`. */
export function controlClient<Api extends object> (home: string, inputs: InputParsers<Api>): Api {
  const methods = Object.keys(inputs) as Array<keyof Api & string>
  // Built from the method list the compiler checked against `Api`; each entry forwards its own method.
  const forward = (method: keyof Api & string): AnyMethod => async (input, options) => await callControl<Record<string, AnyMethod>, string>(home, method, input, options)
  return Object.fromEntries(methods.map(method => [method, forward(method)])) as Api
}

/** True when a process holds the home and answers on its control socket. */
export async function holderRunning (home: string): Promise<boolean> {
  try {
    const socket = await connect(homeLayout(home).controlSocket)
    socket.destroy()
    return true
  } catch {
    // No socket, or nobody behind it (a holder that died): either way no holder answers.
    return false
  }
}

function connect (path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path)
    socket.once('connect', () => { socket.off('error', reject); resolve(socket) })
    socket.once('error', reject)
  })
}

/** Splits a socket's data into lines; an over-long line ends the connection. */
function readLines (socket: Socket, onLine: (line: string) => void, onOversize?: () => void): void {
  let buffered = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    buffered += chunk
    let newline: number
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      if (line.trim() !== '') onLine(line)
    }
    if (buffered.length > MAX_CONTROL_LINE_CHARS) {
      onOversize?.()
      socket.destroy()
    }
  })
}

function errorToWire (err: unknown): { name: string, message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message }
  return { name: 'Error', message: String(err) }
}
