// The Dispatch application as a library (`dispatch-p2p/peers`): the application API (every use
// case, typed), the task board over a space's document, the desktop agent that claims and runs
// tasks, and the command line.
// Kept small on purpose: the sync engine itself is the package root (`dispatch-p2p`).

export { Application } from './app/application.ts'
export { API_INPUTS, API_METHODS, BadInputError } from './app/api.ts'
export type { DispatchApi, Method, CallOptions, UseCase } from './app/api.ts'
export type { DeviceRuntime, SettingsStore, Settings, TaskArchive, ArchivedTask } from './app/ports.ts'
export { TaskBoard } from './tasks/task-board.ts'
export type { TaskBoardOptions, TaskBoardEvents, AddTaskInput, FinishInput, RuleViolation } from './tasks/task-board.ts'
export type { DeviceRole } from './tasks/roles.ts'
export type { Task, TaskStatus, FinalStatus, TaskOutput, LogEntry, LogKind } from './tasks/task-rules.ts'
export { IllegalTransitionError, WrongWriterError, TaskNotFoundError, InvalidTaskFieldError, UnknownTargetError } from './tasks/errors.ts'
export { newTaskId, taskIdTime } from './tasks/task-id.ts'
export { Agent } from './agent/agent.ts'
export type { AgentOptions, AgentEvents } from './agent/agent.ts'
export { runCli, main } from './cli/main.ts'
