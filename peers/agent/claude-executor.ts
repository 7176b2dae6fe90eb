// Runs natural-language tasks with Claude: the SDK's tool runner over the SDK's own agent
// toolset, confined by the SDK to the granted folders and, for defence in depth, every call
// re-checked against our Permissions, written to the audit log (fsynced) before it runs,
// and streamed into the task log.
//
// The runner is used with `thread: false` (full history every turn, the plain Messages API
// wire format), which keeps the desktop independent of server-held message threads.

import Anthropic from '@anthropic-ai/sdk'
import { betaAgentToolset20260401 } from '@anthropic-ai/sdk/tools/agent-toolset/node'
import { ToolError } from '@anthropic-ai/sdk/lib/tools/ToolError'
import type { BetaRunnableTool } from '@anthropic-ai/sdk/lib/tools/BetaRunnableTool'
import type { BetaMessage, BetaToolUnion } from '@anthropic-ai/sdk/resources/beta'
import type { Executor, ExecutionContext, ExecutionResult } from './executor.ts'
import type { Access, Permissions } from './permissions.ts'

/** The current Sonnet in the installed SDK's model list, not in its deprecated list. */
export const DEFAULT_MODEL = 'claude-sonnet-5-5'
export const DEFAULT_MAX_TURNS = 40
export const DEFAULT_MAX_TOKENS = 8192
/** Input + output tokens over the whole task; past it the run stops. */
export const DEFAULT_TOKEN_BUDGET = 1_000_000
const RESULT_CHARS = 1200
const LOG_TEXT_CHARS = 300

export interface ClaudeExecutorOptions {
  env?: NodeJS.ProcessEnv
  apiKey?: string
  /** Endpoint (tests: the scripted server); otherwise ANTHROPIC_BASE_URL or the SDK default. */
  baseURL?: string
  model?: string
  maxTurns?: number
  maxTokens?: number
  tokenBudget?: number
  maxRetries?: number
}

export class ClaudeExecutor implements Executor {
  readonly name = 'claude'
  readonly model: string
  readonly #client: Anthropic
  readonly #opts: ClaudeExecutorOptions

  constructor (opts: ClaudeExecutorOptions = {}) {
    const env = opts.env ?? process.env
    this.#opts = opts
    this.model = opts.model ?? (env.DISPATCH_MODEL || DEFAULT_MODEL)
    const apiKey = opts.apiKey ?? env.ANTHROPIC_API_KEY
    if (!apiKey) throw new Error('the Claude executor needs ANTHROPIC_API_KEY')
    const baseURL = opts.baseURL ?? (env.ANTHROPIC_BASE_URL || undefined)
    this.#client = new Anthropic({ apiKey, ...(baseURL !== undefined ? { baseURL } : {}), ...(opts.maxRetries !== undefined ? { maxRetries: opts.maxRetries } : {}) })
  }

  async run (ctx: ExecutionContext): Promise<ExecutionResult> {
    const perms = ctx.permissions
    let workdir: string
    try { workdir = perms.workdir() } catch (err) { return { status: 'failed', error: (err as Error).message } }
    const tools = confinedTools(ctx, workdir)
    const maxTurns = this.#opts.maxTurns ?? DEFAULT_MAX_TURNS
    const budget = this.#opts.tokenBudget ?? DEFAULT_TOKEN_BUDGET
    const stop = new AbortController()
    const onAbort = () => stop.abort(ctx.signal.reason)
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    if (ctx.signal.aborted) onAbort()
    let used = 0
    let last: BetaMessage | undefined
    let overBudget = false
    try {
      const runner = this.#client.beta.messages.toolRunner({
        model: this.model,
        max_tokens: this.#opts.maxTokens ?? DEFAULT_MAX_TOKENS,
        system: await systemPrompt(perms, workdir),
        messages: [{ role: 'user', content: ctx.text }],
        tools,
        max_iterations: maxTurns,
        thread: false
      }, { signal: stop.signal })
      for await (const message of runner) {
        last = message
        used += message.usage.input_tokens + message.usage.output_tokens
        for (const block of message.content) {
          if (block.type === 'text' && block.text.trim() !== '') ctx.log('text', condense(block.text, LOG_TEXT_CHARS))
        }
        if (used > budget) { overBudget = true; stop.abort(new Error('token budget')); break }
      }
    } catch (err) {
      if (ctx.signal.aborted) return { status: 'failed', error: 'cancelled' }
      if (!overBudget) return { status: 'failed', error: humanApiError(err) }
    } finally {
      ctx.signal.removeEventListener('abort', onAbort)
      for (const t of tools) await (t as BetaRunnableTool).close?.()
    }
    if (ctx.signal.aborted) return { status: 'failed', error: 'cancelled' }
    if (overBudget) return { status: 'failed', error: `stopped: the task used more than ${budget} tokens`, ...partial(last) }
    if (last === undefined) return { status: 'failed', error: 'Claude sent no reply' }
    if (last.stop_reason === 'tool_use') return { status: 'failed', error: `stopped after ${maxTurns} turns (the limit per task)`, ...partial(last) }
    if (last.stop_reason === 'max_tokens') return { status: 'failed', error: 'the reply hit the token limit', ...partial(last) }
    if (last.stop_reason === 'refusal') return { status: 'failed', error: 'Claude declined this task', ...partial(last) }
    return { status: 'done', result: finalText(last) || 'done' }
  }
}

/** The SDK toolset confined to the grants (bash only with the terminal), each tool wrapped in our check + audit + log. */
export function confinedTools (ctx: ExecutionContext, workdir: string): Array<BetaRunnableTool | BetaToolUnion> {
  const perms = ctx.permissions
  const readable = perms.readableRoots()
  const env: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.toUpperCase().startsWith('ANTHROPIC_')) env[k] = v
  const toolset = betaAgentToolset20260401({
    workdir,
    allowedRoots: readable.filter((r) => r !== workdir),
    readOnlyRoots: perms.readOnlyRoots(),
    env
  }).filter((t) => t.name !== 'bash' || perms.terminal)
  const wrapped: Array<BetaRunnableTool | BetaToolUnion> = toolset.map((tool) => guard(tool, ctx, workdir))
  // The agent toolset has no network tool; with the network granted Claude may also search the web (a server tool).
  if (perms.network) wrapped.push({ type: 'web_search_20250305', name: 'web_search', max_uses: 5 })
  return wrapped
}

/** Which path each tool touches and how. */
function pathsOf (tool: string, input: Record<string, unknown>): Array<{ path: string, access: Access }> {
  const str = (v: unknown) => typeof v === 'string' ? v : undefined
  switch (tool) {
    case 'read': return [{ path: str(input.file_path) ?? '', access: 'read' }]
    case 'write':
    case 'edit': return [{ path: str(input.file_path) ?? '', access: 'write' }]
    case 'glob':
    case 'grep': return str(input.path) !== undefined ? [{ path: str(input.path)!, access: 'read' }] : []
    default: return []
  }
}

function guard (tool: BetaRunnableTool, ctx: ExecutionContext, workdir: string): BetaRunnableTool {
  const name = tool.name
  return {
    ...tool,
    run: async (input: Record<string, unknown>, context) => {
      const denial = await check(name, input, ctx.permissions, workdir)
      await ctx.audit.append({ taskId: ctx.taskId, tool: name, input, decision: denial === undefined ? 'allowed' : 'denied', reason: denial ?? 'inside the grants' })
      ctx.log('tool', `${denial === undefined ? '' : 'refused: '}${describeCall(name, input)}${denial === undefined ? '' : ` (${denial})`}`)
      if (denial !== undefined) throw new ToolError(`permission denied: ${denial}`)
      if (ctx.signal.aborted) throw new ToolError('cancelled')
      return tool.run(input, context)
    }
  } as BetaRunnableTool
}

async function check (name: string, input: Record<string, unknown>, perms: Permissions, workdir: string): Promise<string | undefined> {
  if (name === 'bash' && !perms.terminal) return 'the terminal is not granted'
  if (name === 'glob' && typeof input.pattern === 'string' && (input.pattern.startsWith('/') || input.pattern.split(/[\\/{},]/).includes('..') || input.pattern.includes('\0'))) return 'glob patterns stay relative and inside the folder'
  for (const { path, access } of pathsOf(name, input)) {
    const d = await perms.decide(path, access, workdir)
    if (!d.allowed) return `${access} ${JSON.stringify(path)}: ${d.reason}`
  }
  return undefined
}

function describeCall (name: string, input: Record<string, unknown>): string {
  const s = (v: unknown) => JSON.stringify(typeof v === 'string' ? condense(v, 120) : v)
  switch (name) {
    case 'read': return `read ${s(input.file_path)}`
    case 'write': return `write ${s(input.file_path)} (${typeof input.content === 'string' ? input.content.length : 0} chars)`
    case 'edit': return `edit ${s(input.file_path)}`
    case 'glob': return `glob ${s(input.pattern)}${input.path !== undefined ? ` in ${s(input.path)}` : ''}`
    case 'grep': return `grep ${s(input.pattern)}${input.path !== undefined ? ` in ${s(input.path)}` : ''}`
    case 'bash': return `$ ${condense(String(input.command ?? ''), 200)}`
    default: return `${name} ${condense(JSON.stringify(input), 120)}`
  }
}

async function systemPrompt (perms: Permissions, workdir: string): Promise<string> {
  const ro = perms.readOnlyRoots()
  const readable = perms.readableRoots()
  const writable = await perms.canWriteSomewhere()
  return [
    'You are Dispatch, working on the user\'s desktop computer on a task they sent from their phone. They are not watching; do the task without asking questions.',
    `Your working directory is ${workdir}.`,
    `You may read inside: ${readable.join(', ')}.`,
    writable ? `You may create and change files inside ${perms.scope ?? perms.grants.readWrite.join(', ')}${ro.length > 0 ? `, except inside these read-only folders: ${ro.join(', ')}` : ''}.` : 'You may not change any file: every folder you can reach is read-only.',
    'Anything outside these folders is off limits; such tool calls are refused.',
    perms.terminal ? 'You have a bash tool.' : 'You have no shell: use the file tools only.',
    perms.network ? 'You may use the network.' : 'You have no network access.',
    'When you are done, end with a short result the user can read on a phone screen: two or three sentences, plain text, naming any files you created or changed.'
  ].join('\n')
}

/** One line a person understands for an API failure (after the SDK's own retries). */
export function humanApiError (err: unknown): string {
  if (err instanceof Anthropic.AuthenticationError) return 'the Anthropic API rejected the key: check ANTHROPIC_API_KEY on the desktop'
  if (err instanceof Anthropic.PermissionDeniedError) return 'the API key is not allowed to use this model or feature (check DISPATCH_MODEL and the key\'s permissions)'
  if (err instanceof Anthropic.RateLimitError) return 'rate limited by the Anthropic API: too many requests or tokens for this key right now; try again in a minute'
  if (err instanceof Anthropic.APIError && (err.status === 529 || err instanceof Anthropic.OverloadedError)) return 'Claude is overloaded right now; try again in a few minutes'
  if (err instanceof Anthropic.NotFoundError) return 'the Anthropic API does not know this model (check DISPATCH_MODEL)'
  if (err instanceof Anthropic.APIConnectionTimeoutError) return 'the Anthropic API did not answer in time'
  if (err instanceof Anthropic.APIConnectionError) return 'cannot reach the Anthropic API: no network connection (or ANTHROPIC_BASE_URL is wrong)'
  if (err instanceof Anthropic.APIError) return `the Anthropic API failed (${err.status ?? 'no status'}): ${condense(err.message, 200)}`
  return `Claude run failed: ${condense((err as Error)?.message ?? String(err), 200)}`
}

function finalText (m: BetaMessage): string {
  const texts = m.content.filter((b) => b.type === 'text').map((b) => b.text.trim()).filter((t) => t !== '')
  return condense(texts.at(-1) ?? '', RESULT_CHARS, false)
}

function partial (m: BetaMessage | undefined): { result?: string } {
  const t = m === undefined ? '' : finalText(m)
  return t === '' ? {} : { result: t }
}

function condense (s: string, max: number, oneLine = true): string {
  const t = oneLine ? s.replace(/\s+/g, ' ').trim() : s.trim()
  return t.length > max ? t.slice(0, max - 1) + '…' : t
}
