// Each Claude task's conversation, kept in the desktop's home (`conversations/<task id>.json`,
// written atomically and fsynced): the message history, the results of the tool calls of the
// turn in progress, and the approvals given for the rest of the task. It is what lets a task
// paused on the phone survive a kill -9 of the desktop, and a follow-up continue a finished task.

import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { writeJsonFile } from '../../core/index.ts'
import type { BetaMessageParam, BetaToolResultBlockParam } from '@anthropic-ai/sdk/resources/beta'

export const CONVERSATIONS_DIR = 'conversations'

/** A kind of call allowed for the rest of a task (`allow for this task`). */
export interface StandingApproval {
  tool: string
  /** For path tools: the folder (real location) the approval covers; absent for bash. */
  folder?: string
}

export interface Conversation {
  messages: BetaMessageParam[]
  /** Tool results of the last assistant turn already produced, by tool_use id (never run twice). */
  results: Record<string, BetaToolResultBlockParam>
  standing: StandingApproval[]
}

export class ConversationStore {
  readonly dir: string

  constructor (home: string) {
    this.dir = path.join(home, CONVERSATIONS_DIR)
  }

  #file (taskId: string): string {
    // Task ids are ULIDs; anything else is refused rather than used as a path.
    if (!/^[0-9A-Za-z_-]{1,200}$/.test(taskId)) throw new Error(`not a task id: ${JSON.stringify(taskId)}`)
    return path.join(this.dir, `${taskId}.json`)
  }

  /** The conversation of a task, or undefined when this desktop has none for it. */
  async load (taskId: string): Promise<Conversation | undefined> {
    let text: string
    try { text = await fs.readFile(this.#file(taskId), 'utf8') } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    const c = JSON.parse(text) as Partial<Conversation>
    if (!Array.isArray(c.messages)) return undefined
    return { messages: c.messages, results: c.results ?? {}, standing: c.standing ?? [] }
  }

  async save (taskId: string, conversation: Conversation): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 })
    await writeJsonFile(this.#file(taskId), conversation)
  }
}
