// What an executor is (runs one task inside its permissions) and which executor a task goes to.

import type { Permissions } from './permissions.ts'
import type { AuditLog } from './audit-log.ts'
import type { LogKind } from '../tasks/task-rules.ts'

export interface ExecutionContext {
  taskId: string
  text: string
  permissions: Permissions
  /** Aborted when the task is cancelled or the agent stops; an executor returns within 2 s of it. */
  signal: AbortSignal
  /** Streams one line into the task's log on the phone. */
  log: (kind: LogKind, text: string) => void
  audit: AuditLog
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
