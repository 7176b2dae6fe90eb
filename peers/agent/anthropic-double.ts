// TEST DOUBLE of the Anthropic Messages API: a scripted HTTP server on 127.0.0.1 that speaks
// the real wire format (POST /v1/messages, JSON in and out, the API's error bodies), reached by
// the real SDK through `baseURL`. Non-streaming only: the desktop's tool runner does not stream.
// Also runnable as a process for end-to-end tests:
//   node peers/agent/anthropic-double.ts script.json   -> prints {"url":...} on stdout

import * as http from 'node:http'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'

export interface ScriptedToolUse { name: string, input: Record<string, unknown> }

export type ScriptStep =
  /** An assistant reply: text and/or tool calls (stop_reason tool_use when there are calls). */
  | { text?: string, toolUses?: ScriptedToolUse[], stopReason?: string, usage?: { input_tokens: number, output_tokens: number } }
  /** An API error: status plus the API's error type (401 authentication_error, 429 rate_limit_error, 529 overloaded_error...). */
  | { status: number, errorType: string, message?: string, headers?: Record<string, string> }
  /** Never answer (the client must abort). */
  | { hang: true }

export interface RecordedRequest {
  path: string
  headers: http.IncomingHttpHeaders
  body: any
}

export interface AnthropicDouble {
  url: string
  requests: RecordedRequest[]
  close: () => Promise<void>
}

/**
 * Serves `script` one step per request, in order; once it runs out, every request gets a final
 * "done" text reply. `script` may also be a function of the request (and its index).
 */
export async function startAnthropicDouble (script: ScriptStep[] | ((req: RecordedRequest, index: number) => ScriptStep)): Promise<AnthropicDouble> {
  const requests: RecordedRequest[] = []
  const hanging = new Set<http.ServerResponse>()
  let ids = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let body: any
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') } catch { body = null }
      const rec: RecordedRequest = { path: req.url ?? '', headers: req.headers, body }
      const index = requests.length
      requests.push(rec)
      if (req.method !== 'POST' || !(req.url ?? '').startsWith('/v1/messages')) return sendError(res, 404, 'not_found_error', `no route ${req.method} ${req.url}`)
      if (body === null || typeof body.model !== 'string' || !Array.isArray(body.messages) || typeof body.max_tokens !== 'number') return sendError(res, 400, 'invalid_request_error', 'model, max_tokens and messages are required')
      if (body.stream === true) return sendError(res, 400, 'invalid_request_error', 'this test double does not stream')
      const step: ScriptStep = typeof script === 'function' ? script(rec, index) : (script[index] ?? { text: 'done' })
      if ('hang' in step) { hanging.add(res); res.on('close', () => hanging.delete(res)); return }
      if ('status' in step) return sendError(res, step.status, step.errorType, step.message ?? step.errorType, step.headers)
      const content: unknown[] = []
      if (step.text !== undefined) content.push({ type: 'text', text: step.text })
      for (const t of step.toolUses ?? []) content.push({ type: 'tool_use', id: `toolu_${String(++ids).padStart(6, '0')}`, name: t.name, input: t.input })
      const message = {
        id: `msg_${String(index).padStart(6, '0')}`,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content,
        stop_reason: step.stopReason ?? ((step.toolUses ?? []).length > 0 ? 'tool_use' : 'end_turn'),
        stop_sequence: null,
        usage: step.usage ?? { input_tokens: 100, output_tokens: 20 }
      }
      send(res, 200, message, { 'request-id': `req_${index}` })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}

function send (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers })
  res.end(data)
}

function sendError (res: http.ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  send(res, status, { type: 'error', error: { type, message }, request_id: 'req_error' }, headers)
}

/** The tool_result blocks of a request's last user message, by tool_use id. */
export function toolResults (req: RecordedRequest): Array<{ tool_use_id: string, is_error: boolean, text: string }> {
  const last = req.body?.messages?.at(-1)
  if (last?.role !== 'user' || !Array.isArray(last.content)) return []
  return last.content.filter((b: any) => b.type === 'tool_result').map((b: any) => ({
    tool_use_id: b.tool_use_id,
    is_error: b.is_error === true,
    text: typeof b.content === 'string' ? b.content : (b.content ?? []).map((c: any) => c.text ?? '').join('')
  }))
}

if (import.meta.main) {
  const file = process.argv[2]
  const script = file !== undefined ? JSON.parse(readFileSync(file, 'utf8')) as ScriptStep[] : []
  const double = await startAnthropicDouble(script)
  process.stdout.write(JSON.stringify({ url: double.url }) + '\n')
  process.on('SIGTERM', () => { void double.close().then(() => process.exit(0)) })
}
