/**
 * Tasklane: durable tasks, processes and schedules for TypeScript on PostgreSQL.
 *
 * @module
 */
export { Tasklane } from "./tasklane.js";
export type { OpenOptions, EnqueueItem, ListTasksOptions, TaskPage, ActorOptions, WorkerInfo } from "./tasklane.js";
export type { TasklaneEvents } from "./events.js";
export type { MaintenanceConfig } from "./maintenance/maintenance.js";
export { Worker } from "./runtime/worker.js";
export { sequence, parallel } from "./process/definition.js";
export type { StartProcessOptions, StepDefinition, StepGroup, OnFailure } from "./process/definition.js";
export type { ProcessView, ProcessState, StepView } from "./process/view.js";
export type { DefineOptions } from "./client/definition.js";
export { scheduledRun, defaultCheckinMarginMs } from "./schedules/index.js";
export type {
  ScheduleOptions, SchedulePatch, ScheduleOverlap, Schedule, ScheduleRun, ScheduleEvent, ScheduleInfo, ScheduleDetails,
  ScheduleSyncResult, ScheduleReadOptions,
} from "./schedules/index.js";
export type { EnqueueOptions, RetryPolicy, Timeouts, WorkerOptions } from "./config.js";
export { defaultRetry } from "./config.js";
export type {
  Task, TaskState, TaskError, EnqueuedTask, TaskAttempt, TaskEvent, RunningTask, TaskContext, TaskHandler, ExitOutcome,
} from "./task.js";
export { taskStates, terminalStates, WaitForEvent } from "./task.js";
export type { Logger } from "./logger.js";
export {
  TasklaneError, ValidationError, ConflictError, NotFoundError, InvalidStateError, LeaseLostError, FatalError,
  BusinessError, ClosedError, MigrationError,
} from "./errors.js";
export type { ErrorCode } from "./errors.js";
