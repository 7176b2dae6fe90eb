// Runs natural-language tasks with Claude: the SDK's tool runner over the SDK's own agent
// toolset, confined by the SDK to the granted folders and, for defence in depth, every call
// re-checked against our Permissions, written to the audit log (fsynced) before it runs,
// and streamed into the task log.
//
// The runner is used with `thread: false` (full history every turn, the plain Messages API
// wire format), which keeps the desktop independent of server-held message threads.
//
// A call the grants do not cover is not simply refused when the phone can be asked
// (`ctx.ask`): the task waits for approval, and an approved call runs with a toolset widened for
// that one call. Claude can ask the user questions (`ask_user`). The conversation is saved in
// the home after every reply and tool result (conversation-store.ts), so a task paused on the
// phone resumes after a restart, and a follow-up continues a finished task's conversation.

import Anthropic from '@anthropic-ai/sdk'
import { betaAgentToolset20260401 } from '@anthropic-ai/sdk/tools/agent-toolset/node'
import * as path from 'node:path'
import * as fs from 'node:fs/promises'
import { ToolError } from '@anthropic-ai/sdk/lib/tools/ToolError'
import { runRunnableTool, toolErrorContent } from '@anthropic-ai/sdk/lib/tools/BetaRunnableTool'
import type { BetaRunnableTool, BetaToolRunContext } from '@anthropic-ai/sdk/lib/tools/BetaRunnableTool'
import type { BetaContentBlockParam, BetaMessage, BetaMessageParam, BetaToolResultBlockParam, BetaToolUnion, BetaToolUseBlock } from '@anthropic-ai/sdk/resources/beta'
import type { Executor, ExecutionContext, ExecutionResult } from './executor.ts'
import { isWithin, realLocation } from './permissions.ts'
import type { Access, Permissions } from './permissions.ts'
import type { Conversation, StandingApproval } from './conversation-store.ts'

/** The current Sonnet in the installed SDK's model list, not in its deprecated list. */
export const DEFAULT_MODEL = 'claude-sonnet-5-5'
export const DEFAULT_MAX_TURNS = 40
export const DEFAULT_MAX_TOKENS = 8192
/** Input + output tokens over the whole task; past it the run stops. */
export const DEFAULT_TOKEN_BUDGET = 1_000_000
const RESULT_CHARS = 1200
const LOG_TEXT_CHARS = 300
export const ASK_USER_TOOL = 'ask_user'

/** A saved conversation a run needs is not there (a waiting task whose file was removed). */
export class ConversationLostError extends Error {
  override name = 'ConversationLostError'
}

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
    let conversation: Conversation
    try {
      conversation = await startingConversation(ctx)
    } catch (err) {
      return { status: 'failed', error: (err as Error).message }
    }
    const session = new ConversationSession(ctx, conversation)
    const tools = confinedTools(ctx, workdir, session)
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
      // A turn cut short by a restart (or a follow-up) is completed first: its unanswered calls run now.
      const messages = await session.finishOpenTurn(tools, stop.signal)
      const runner = this.#client.beta.messages.toolRunner({
        model: this.model,
        max_tokens: this.#opts.maxTokens ?? DEFAULT_MAX_TOKENS,
        system: await systemPrompt(perms, workdir, ctx.ask !== undefined, ctx.noNetwork?.enforced === true),
        messages,
        tools,
        max_iterations: maxTurns,
        thread: false
      }, { signal: stop.signal })
      for await (const message of runner) {
        last = message
        // Saved before any of its tool calls runs: a restart finds the calls and what is answered.
        await session.reply(runner.params.messages, message)
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
      await session.close()
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
export function confinedTools (ctx: ExecutionContext, workdir: string, session?: ConversationSession): Array<BetaRunnableTool | BetaToolUnion> {
  const perms = ctx.permissions
  const readable = perms.readableRoots()
  const env = toolEnv(ctx)
  // With the phone to ask, bash is offered without the terminal grant too: each call then waits for approval.
  const toolset = betaAgentToolset20260401({
    workdir,
    allowedRoots: readable.filter((r) => r !== workdir),
    readOnlyRoots: perms.readOnlyRoots(),
    env
  }).filter((t) => t.name !== 'bash' || perms.terminal || ctx.ask !== undefined)
  const wrapped: Array<BetaRunnableTool | BetaToolUnion> = toolset.map((tool) => guard(tool, ctx, workdir, session))
  if (ctx.ask !== undefined) wrapped.push(askUserTool(ctx, session))
  // The agent toolset has no network tool; with the network granted Claude may also search the web (a server tool).
  if (perms.network) wrapped.push({ type: 'web_search_20250305', name: 'web_search', max_uses: 5 })
  return wrapped
}

/** The bash tool's environment: no API key; the hook that records the shell and, without the network grant, cuts it. */
function toolEnv (ctx: ExecutionContext): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.toUpperCase().startsWith('ANTHROPIC_') && k !== 'BASH_ENV') env[k] = v
  if (ctx.bashEnv !== undefined) Object.assign(env, ctx.bashEnv)
  return env
}

/** Claude's way to ask the user something: the task waits in awaiting-answer until `dispatch reply`. */
function askUserTool (ctx: ExecutionContext, session: ConversationSession | undefined): BetaRunnableTool {
  const tool = {
    name: ASK_USER_TOOL,
    description: 'Ask the user a question on their phone and wait for the answer. Use it only when you cannot go on without their decision; the answer may take hours.',
    input_schema: { type: 'object' as const, properties: { question: { type: 'string', description: 'The question, short enough for a phone screen.' } }, required: ['question'] },
    parse: (content: unknown) => content as { question: string },
    run: async (input: { question: string }, context?: BetaToolRunContext) => {
      const id = context?.toolUse.id
      if (id === undefined || ctx.ask === undefined) throw new ToolError('nobody can be asked here')
      const question = String(input?.question ?? '').slice(0, 2000)
      ctx.log('tool', `asked: ${condense(question, 200)}`)
      return await session?.record(id, async () => {
        const answer = await ctx.ask!({ id, kind: 'question', question })
        if (answer.decision !== 'reply') throw new ToolError(`no answer: ${answer.text ?? 'the user did not answer'}`)
        return answer.text ?? ''
      }) ?? ''
    }
  }
  return tool as unknown as BetaRunnableTool
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

function guard (tool: BetaRunnableTool, ctx: ExecutionContext, workdir: string, session: ConversationSession | undefined): BetaRunnableTool {
  const name = tool.name
  const run = async (input: Record<string, unknown>, context?: BetaToolRunContext): Promise<string | Array<import('@anthropic-ai/sdk/resources/beta').BetaToolResultContentBlockParam>> => {
    const outcome = await check(name, input, ctx.permissions, workdir)
    const id = context?.toolUse.id
    if (outcome.denial !== undefined && outcome.askable && ctx.ask !== undefined && id !== undefined && session !== undefined) {
      const covering = session.standingFor(name, outcome.paths)
      if (covering !== undefined) {
        await ctx.audit.append({ taskId: ctx.taskId, tool: name, input, decision: 'allowed', reason: `approved for this task from the phone (${outcome.denial})` })
        ctx.log('tool', `${describeCall(name, input)} (approved for this task)`)
      } else {
        const summary = describeCall(name, input)
        ctx.log('tool', `needs approval: ${summary} (${outcome.denial})`)
        const answer = await ctx.ask({ id, kind: 'approval', tool: name, summary, reason: outcome.denial })
        if (answer.decision !== 'allow-once' && answer.decision !== 'allow-task') {
          throw new ToolError(`permission denied by the user${answer.text !== undefined && answer.text !== '' ? `: ${answer.text}` : ''}`)
        }
        if (answer.decision === 'allow-task') await session.allowForTask(name, outcome.paths)
      }
      if (ctx.signal.aborted) throw new ToolError('cancelled')
      // Approved: run it with a toolset widened for exactly this call (the SDK's own confinement would refuse it).
      return await widened(ctx, workdir, name, outcome.paths).run(input, context)
    }
    await ctx.audit.append({ taskId: ctx.taskId, tool: name, input, decision: outcome.denial === undefined ? 'allowed' : 'denied', reason: outcome.denial ?? 'inside the grants' })
    ctx.log('tool', `${outcome.denial === undefined ? '' : 'refused: '}${describeCall(name, input)}${outcome.denial === undefined ? '' : ` (${outcome.denial})`}`)
    if (outcome.denial !== undefined) throw new ToolError(`permission denied: ${outcome.denial}`)
    if (ctx.signal.aborted) throw new ToolError('cancelled')
    return await tool.run(input, context)
  }
  return {
    ...tool,
    run: async (input: Record<string, unknown>, context?: BetaToolRunContext) => {
      const id = context?.toolUse.id
      return session !== undefined && id !== undefined ? await session.record(id, async () => await run(input, context)) : await run(input, context)
    }
  } as BetaRunnableTool
}

/** The SDK tool `name` from a toolset that also reaches `paths` (real locations) and runs bash. */
function widened (ctx: ExecutionContext, workdir: string, name: string, paths: string[]): BetaRunnableTool {
  const folders = paths.map((p) => path.dirname(p))
  const toolset = betaAgentToolset20260401({
    workdir,
    allowedRoots: [...new Set([...ctx.permissions.readableRoots(), ...folders])].filter((r) => r !== workdir),
    readOnlyRoots: [],
    env: toolEnv(ctx)
  })
  const tool = toolset.find((t) => t.name === name)
  if (tool === undefined) throw new ToolError(`no tool ${name}`)
  return {
    ...tool,
    run: async (input: unknown, context?: BetaToolRunContext) => {
      try { return await tool.run(input, context) } finally { for (const t of toolset) await t.close?.() }
    }
  } as BetaRunnableTool
}

interface CheckOutcome {
  denial?: string
  /** Whether the phone may approve it (a glob escaping its folder, a NUL byte, are never approved). */
  askable: boolean
  /** Real locations of the paths the call touches. */
  paths: string[]
}

async function check (name: string, input: Record<string, unknown>, perms: Permissions, workdir: string): Promise<CheckOutcome> {
  if (name === 'bash' && !perms.terminal) return { denial: 'the terminal is not granted', askable: true, paths: [] }
  if (name === 'glob' && typeof input.pattern === 'string' && (input.pattern.startsWith('/') || input.pattern.split(/[\\/{},]/).includes('..') || input.pattern.includes('\0'))) return { denial: 'glob patterns stay relative and inside the folder', askable: false, paths: [] }
  const paths: string[] = []
  for (const { path: p, access } of pathsOf(name, input)) {
    const d = await perms.decide(p, access, workdir)
    if (!d.allowed) return { denial: `${access} ${JSON.stringify(p)}: ${d.reason}`, askable: d.real !== undefined, paths: d.real !== undefined ? [d.real] : [] }
    paths.push(d.real!)
  }
  // Inside a folder granted with --ask, even a call the grants cover waits for the phone.
  for (const real of paths) {
    const askRoot = await perms.askRootOf(real)
    if (askRoot !== undefined) return { denial: `inside ${askRoot}, where every call asks first (--ask)`, askable: true, paths }
  }
  return { askable: false, paths }
}

/** The conversation of one run as it is saved: replies, the results of the calls of the open turn, standing approvals. */
class ConversationSession {
  readonly #ctx: ExecutionContext
  readonly #c: Conversation
  #saving: Promise<void> = Promise.resolve()

  constructor (ctx: ExecutionContext, conversation: Conversation) {
    this.#ctx = ctx
    this.#c = conversation
  }

  get messages (): BetaMessageParam[] { return this.#c.messages }

  /** A reply arrived: the history the runner sent plus the reply, and a new open turn. */
  async reply (sent: BetaMessageParam[], message: BetaMessage): Promise<void> {
    this.#c.messages = [...sent, { role: 'assistant', content: message.content } as BetaMessageParam]
    this.#c.results = {}
    await this.#save()
  }

  /**
   * Runs one tool call and saves its result. A call that succeeded is always saved (its effect
   * happened); one that failed while the run is cancelled or stopped is not (a wait for the
   * phone cut short is not an answer), so a restart runs it again. A kill -9 between a call's
   * effect and its save also runs it again: calls are at-least-once across a crash.
   */
  async record (id: string, fn: () => Promise<string | Array<import('@anthropic-ai/sdk/resources/beta').BetaToolResultContentBlockParam>>): Promise<string | Array<import('@anthropic-ai/sdk/resources/beta').BetaToolResultContentBlockParam>> {
    try {
      const content = await fn()
      this.#c.results[id] = { type: 'tool_result', tool_use_id: id, content }
      await this.#save()
      return content
    } catch (err) {
      if (!this.#ctx.signal.aborted) { this.#c.results[id] = { type: 'tool_result', tool_use_id: id, content: toolErrorContent(err), is_error: true }; await this.#save() }
      throw err
    }
  }

  standingFor (tool: string, paths: string[]): StandingApproval | undefined {
    return this.#c.standing.find((s) => s.tool === tool && (s.folder === undefined ? paths.length === 0 : paths.length > 0 && paths.every((p) => isWithin(s.folder!, p))))
  }

  async allowForTask (tool: string, paths: string[]): Promise<void> {
    if (paths.length === 0) this.#c.standing.push({ tool })
    else for (const p of paths) this.#c.standing.push({ tool, folder: path.dirname(p) })
    await this.#save()
  }

  /**
   * The messages to start the runner with. When the history ends in a reply whose calls are
   * not all answered (a restart while the phone was asked), those calls run now; results saved
   * before the restart are used as they are, so no call runs twice.
   */
  async finishOpenTurn (tools: Array<BetaRunnableTool | BetaToolUnion>, signal: AbortSignal): Promise<BetaMessageParam[]> {
    const last = this.#c.messages.at(-1)
    if (last?.role !== 'assistant' || typeof last.content === 'string') return this.#c.messages
    const uses = last.content.filter((b): b is BetaToolUseBlock => b.type === 'tool_use')
    if (uses.length === 0) return this.#c.messages
    const results: BetaToolResultBlockParam[] = []
    for (const use of uses) {
      const saved = this.#c.results[use.id]
      if (saved !== undefined) { results.push(saved); continue }
      const tool = tools.find((t): t is BetaRunnableTool => 'run' in t && t.name === use.name)
      if (tool === undefined) { results.push({ type: 'tool_result', tool_use_id: use.id, content: `Error: Tool '${use.name}' not found`, is_error: true }); continue }
      const out = await runRunnableTool(tool, use.input, { toolUse: use, toolUseBlock: use, signal })
      results.push({ type: 'tool_result', tool_use_id: use.id, content: out.content, ...(out.isError ? { is_error: true } : {}) })
    }
    if (signal.aborted) throw signal.reason
    return [...this.#c.messages, { role: 'user', content: results }]
  }

  #save (): Promise<void> {
    const store = this.#ctx.conversations
    if (store === undefined) return Promise.resolve()
    const snapshot = JSON.parse(JSON.stringify(this.#c)) as Conversation
    this.#saving = this.#saving.then(async () => await store.save(this.#ctx.taskId, snapshot))
    return this.#saving
  }

  async close (): Promise<void> {
    // A failed save already failed the call that made it; closing only waits for the last one.
    await this.#saving.catch(() => {})
  }
}

/** Where a run starts: its saved conversation (resumed), its parent's plus the new message (a follow-up), or the task text. */
async function startingConversation (ctx: ExecutionContext): Promise<Conversation> {
  const store = ctx.conversations
  if (ctx.resume === true) {
    const saved = await store?.load(ctx.taskId)
    if (saved === undefined) throw new ConversationLostError('the saved conversation of this waiting task is missing from the desktop\'s home; it cannot resume')
    return saved
  }
  const first = await userMessage(ctx)
  if (ctx.parent !== undefined && store !== undefined) {
    const parent = await store.load(ctx.parent)
    if (parent !== undefined && parent.messages.at(-1)?.role === 'assistant') {
      return { messages: [...parent.messages, first], results: {}, standing: [] }
    }
  }
  return { messages: [first], results: {}, standing: [] }
}

/** Media types the Messages API takes as image blocks. */
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp'])

/** The task's text; with attachments, images as image blocks and every file named by its path; on a retry, what the interrupted attempt did. */
async function userMessage (ctx: ExecutionContext): Promise<BetaMessageParam> {
  const files = ctx.attachments ?? []
  const note = interruptedNote(ctx)
  const text = note === undefined ? ctx.text : `${ctx.text}\n\n${note}`
  if (files.length === 0) return { role: 'user', content: text }
  const content: BetaContentBlockParam[] = [{ type: 'text', text }]
  for (const f of files) {
    if (!IMAGE_TYPES.has(f.type)) continue
    const data = (await fs.readFile(f.path)).toString('base64')
    content.push({ type: 'image', source: { type: 'base64', media_type: f.type as 'image/png', data } })
  }
  content.push({ type: 'text', text: `Files sent with this task (in your folder): ${files.map((f) => `${f.path} (${f.type}, ${f.size} bytes)`).join('; ')}` })
  return { role: 'user', content } as BetaMessageParam
}

/** Calls listed at most in a retry's note (the latest ones). */
const INTERRUPTED_CALLS_MAX = 50

/**
 * A retry starts a new conversation, but the interrupted attempt's calls had their effects
 * (files written, commands run): the audit log says which, so Claude can check before redoing.
 */
function interruptedNote (ctx: ExecutionContext): string | undefined {
  const calls = ctx.interruptedCalls ?? []
  if (calls.length === 0) return undefined
  const shown = calls.slice(-INTERRUPTED_CALLS_MAX)
  const lines = shown.map((c) => {
    const input = typeof c.input === 'object' && c.input !== null ? c.input as Record<string, unknown> : { input: c.input }
    return `- ${c.at} ${describeCall(c.tool === 'shell' ? 'bash' : c.tool, input)} (${c.decision === 'allowed' ? 'ran' : `refused: ${condense(c.reason, 120)}`})`
  })
  return [
    'Note: this task was started before and interrupted (the desktop stopped while it ran), so this is a retry.',
    `The interrupted attempt already made these tool calls${calls.length > shown.length ? ` (the last ${shown.length} of ${calls.length})` : ''}; their effects may be in place, so check before repeating any of them:`,
    ...lines
  ].join('\n')
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

async function systemPrompt (perms: Permissions, workdir: string, canAsk: boolean, networkCut: boolean): Promise<string> {
  const ro = perms.readOnlyRoots()
  const readable = perms.readableRoots()
  const writable = await perms.canWriteSomewhere()
  return [
    canAsk
      ? `You are Dispatch, working on the user's desktop computer on a task they sent from their phone. They are not watching: do the task on your own, and use the ${ASK_USER_TOOL} tool only when you cannot go on without their decision.`
      : 'You are Dispatch, working on the user\'s desktop computer on a task they sent from their phone. They are not watching; do the task without asking questions.',
    `Your working directory is ${workdir}.`,
    `You may read inside: ${readable.join(', ')}.`,
    writable ? `You may create and change files inside ${perms.scope ?? perms.grants.readWrite.join(', ')}${ro.length > 0 ? `, except inside these read-only folders: ${ro.join(', ')}` : ''}.` : 'You may not change any file: every folder you can reach is read-only.',
    canAsk ? 'A tool call outside these folders (or bash, without a terminal) waits for the user\'s approval on the phone and may be denied; prefer what you may do.' : 'Anything outside these folders is off limits; such tool calls are refused.',
    perms.terminal ? 'You have a bash tool.' : canAsk ? 'Each bash command needs the user\'s approval.' : 'You have no shell: use the file tools only.',
    // "No network" only where it is cut (sandbox.ts); elsewhere it is a rule, not a fact.
    perms.network ? 'You may use the network.' : networkCut ? 'You have no network access.' : 'The network is not granted for this task: do not use it.',
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
