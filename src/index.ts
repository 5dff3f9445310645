/**
 * Tasklane: durable tasks, processes and schedules for TypeScript on PostgreSQL.
 *
 * @module
 */
export { Tasklane } from "./tasklane.js";
export type { OpenOptions, EnqueueItem, ListTasksOptions, TaskPage, ActorOptions, WorkerInfo, AuditEvent, TaskDeclaration } from "./tasklane.js";
export type { TaskSearchProgress } from "./task-search.js";
export type { TasklaneEvents } from "./events.js";
export type { MaintenanceConfig } from "./maintenance/maintenance.js";
export { Worker } from "./runtime/worker.js";
export { webhook, verifyWebhookSignature, signWebhook } from "./push/webhook.js";
export type { WebhookOptions, WebhookBody } from "./push/webhook.js";
export type { PushEndpoint, PushEndpointInput } from "./push/endpoints.js";
export type { PruneReport, RetentionConfig } from "./maintenance/pruner.js";
export { ExternalTasks } from "./external/index.js";
export type { ExternalTask, ExternalFailure, ExternalTaskFilter, ExternalTaskPage, FetchAndLockOptions, FetchTopic } from "./external/index.js";
export { sequence, parallel } from "./process/definition.js";
export type { StartProcessOptions, StepDefinition, StepGroup, OnFailure } from "./process/definition.js";
export type { ProcessView, ProcessState, StepView } from "./process/view.js";
export type { StartedProcess } from "./process/processes.js";
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
export { createApp } from "./server/app.js";
export type { AppOptions } from "./server/app.js";
export { serve } from "./server/serve.js";
export type { ServeOptions, RunningServer } from "./server/serve.js";
export { requireScope } from "./server/auth.js";
export type { Authenticator } from "./server/auth.js";
export { scopes } from "./auth/tokens.js";
export type { Scope, TokenIdentity, TokenInfo, CreateTokenOptions, CreatedToken } from "./auth/tokens.js";
export {
  TasklaneError, ValidationError, ConflictError, NotFoundError, InvalidStateError, LeaseLostError, FatalError,
  BusinessError, ClosedError, MigrationError, RetryAfterError, BackpressureError,
} from "./errors.js";
export type { ErrorCode } from "./errors.js";
