// What an executor is (runs one task inside its permissions) and which executor a task goes to.

import type { Permissions } from './permissions.ts'
import type { AuditLog } from './audit-log.ts'
import type { Answer, LogKind } from '../tasks/task-rules.ts'
import type { ConversationStore } from './conversation-store.ts'
import type { AuditRecord } from './audit-log.ts'
import type { RunRecords } from './run-records.ts'
import type { NoNetwork } from './sandbox.ts'

/** What a run asks the phone: approval of one tool call, or a question. `id` is the tool call's id. */
export type AskRequest =
  | { id: string, kind: 'approval', tool: string, summary: string, reason: string }
  | { id: string, kind: 'question', question: string }

export interface ExecutionContext {
  taskId: string
  text: string
  permissions: Permissions
  /** Aborted when the task is cancelled or the agent stops; an executor returns within 2 s of it. */
  signal: AbortSignal
  /** Streams one line into the task's log on the phone. */
  log: (kind: LogKind, text: string) => void
  audit: AuditLog
  /**
   * Pauses the task until the phone answers (the task shows awaiting-approval / awaiting-answer
   * meanwhile); an unanswered approval ends as a deny after the desktop's approval timeout.
   * Absent: nothing can be asked, calls outside the grants are simply refused.
   */
  ask?: (request: AskRequest) => Promise<Answer>
  /** Where conversations are kept (resume after a restart, follow-ups). */
  conversations?: ConversationStore
  /** The task was waiting on the phone when the desktop stopped: continue its saved conversation. */
  resume?: boolean
  /** A follow-up: the task whose conversation this one continues. */
  parent?: string
  /** Files sent with the task, already written into the task's folder. */
  attachments?: PlacedAttachment[]
  /** Where commands are recorded before they start, so that a restart can end them first. */
  runs?: RunRecords
  /** How commands run without network here (absent: not enforced). */
  noNetwork?: NoNetwork
  /** Environment for Claude's bash tool: the hook that records it and cuts the network (bash-hook.ts). */
  bashEnv?: Record<string, string>
  /** A retry after an interruption: the tool calls the interrupted attempts made, from the audit log. */
  interruptedCalls?: AuditRecord[]
}

/** An attachment on the desktop's disk, where the task can reach it. */
export interface PlacedAttachment {
  name: string
  type: string
  size: number
  path: string
}

export interface ExecutionResult {
  status: 'done' | 'failed'
  /** Short, for a phone screen. */
  result?: string
  error?: string
}

export interface Executor {
  readonly name: string
  run (ctx: ExecutionContext): Promise<ExecutionResult>
}

export type ExecutorMode = 'auto' | 'claude' | 'shell'

export const SHELL_PREFIX = '$ '
export const NEEDS_KEY_MESSAGE = 'natural-language tasks need Claude: set ANTHROPIC_API_KEY on the desktop (only `$ <command>` tasks run without it)'

/**
 * The executor for a task, or the reason there is none. `$ <command>` goes to the shell unless
 * the mode is `claude`; anything else goes to Claude when there is one (auto = a key is set).
 */
export function routeTask (text: string, mode: ExecutorMode, executors: { shell: Executor, claude?: Executor | undefined }): Executor | { refused: string } {
  const isCommand = text.startsWith(SHELL_PREFIX) || text.startsWith('$\t')
  if (mode === 'shell') return isCommand ? executors.shell : { refused: `this desktop runs only shell commands (--executor shell); write the task as \`$ <command>\`` }
  if (isCommand && mode === 'auto') return executors.shell
  if (executors.claude !== undefined) return executors.claude
  return { refused: mode === 'claude' ? `--executor claude needs ANTHROPIC_API_KEY on the desktop` : NEEDS_KEY_MESSAGE }
}
