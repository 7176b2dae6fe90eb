// The control channel: the process holding a home answers other verbs over a Unix socket
// inside it (owner-only). JSON lines: a request, then any number of events, then one result.
//
//   -> {"id":1,"verb":"devices","args":{}}
//   <- {"id":1,"event":{...}}                       zero or more (streaming verbs)
//   <- {"id":1,"ok":true,"result":...}              or {"id":1,"ok":false,"error":{"name","message"}}

import { createServer, createConnection } from 'node:net'
import type { Socket } from 'node:net'
import { chmod, unlink } from 'node:fs/promises'
import { homeLayout, ensureHomeDir } from './layout.ts'

/** A line longer than this (in characters) closes the connection: no one sends that much by accident. */
export const MAX_CONTROL_LINE_CHARS = 1024 * 1024

export type ControlHandler = (args: any, emit: (event: unknown) => void, signal: AbortSignal) => Promise<unknown>
export type ControlHandlers = Record<string, ControlHandler>

export interface ControlServer {
  socketPath: string
  close (): Promise<void>
}

export class UnknownVerbError extends Error {
  name = 'UnknownVerbError'
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

interface Request { id: string | number, verb: string, args?: unknown }

/** Serves `handlers` on the home's control socket. Call only while holding the home's lock. */
export async function serveControl (home: string, handlers: ControlHandlers): Promise<ControlServer> {
  const layout = await ensureHomeDir(home)
  const path = layout.controlSocket
  // A socket file left by a holder that died; we hold the lock, so it is nobody's.
  await unlink(path).catch(() => {})
  const connections = new Set<Socket>()
  const server = createServer(socket => {
    connections.add(socket)
    socket.on('close', () => connections.delete(socket))
    serveConnection(socket, handlers)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => { server.off('error', reject); resolve() })
  })
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

function serveConnection (socket: Socket, handlers: ControlHandlers): void {
  const aborts = new Set<AbortController>()
  const send = (message: unknown): void => {
    if (!socket.writable) return
    socket.write(JSON.stringify(message) + '\n')
  }
  socket.on('close', () => { for (const a of aborts) a.abort() })
  socket.on('error', () => {})
  readLines(socket, line => {
    let request: Request
    try {
      request = JSON.parse(line)
      if (typeof request !== 'object' || request === null || typeof request.verb !== 'string' || !['string', 'number'].includes(typeof request.id)) throw new Error('expected {id, verb, args}')
    } catch (err) {
      send({ id: null, ok: false, error: { name: 'BadRequestError', message: `bad control request: ${(err as Error).message}` } })
      return
    }
    const { id, verb } = request
    const handler = Object.hasOwn(handlers, verb) ? handlers[verb] : undefined
    if (handler === undefined) {
      send({ id, ok: false, error: { name: 'UnknownVerbError', message: `the running dispatch does not handle "${verb}"` } })
      return
    }
    const abort = new AbortController()
    aborts.add(abort)
    const emit = (event: unknown): void => { if (!abort.signal.aborted) send({ id, event }) }
    // A handler's failure goes back to the caller; it never takes the holder down.
    Promise.resolve()
      .then(async () => await handler(request.args ?? {}, emit, abort.signal))
      .then(result => send({ id, ok: true, result: result ?? null }),
        (err: unknown) => send({ id, ok: false, error: errorToWire(err) }))
      .finally(() => aborts.delete(abort))
  })
}

/** Sends one request to the holder; `onEvent` sees each streamed event; resolves with the result. */
export async function callControl (home: string, verb: string, args: unknown = {}, onEvent?: (event: any) => void, signal?: AbortSignal): Promise<any> {
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
      let message: any
      try { message = JSON.parse(line) } catch { return }
      if (message?.id !== 1) return
      if ('event' in message) {
        if (settled) return
        // The caller's listener must not throw out of a socket handler: it fails the call instead.
        try { onEvent?.(message.event) } catch (err) { finish(() => reject(err)) }
      } else if (message.ok === true) {
        finish(() => resolve(message.result))
      } else {
        const { name, message: text } = message.error ?? {}
        finish(() => reject(new RemoteError(String(name ?? 'Error'), String(text ?? 'unknown error'))))
      }
    }, () => finish(() => reject(new HolderGoneError('the running dispatch sent an oversized line'))))
    socket.write(JSON.stringify({ id: 1, verb, args }) + '\n')
  })
}

/** True when a process holds the home and answers on its control socket. */
export async function holderRunning (home: string): Promise<boolean> {
  try {
    const socket = await connect(homeLayout(home).controlSocket)
    socket.destroy()
    return true
  } catch {
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
