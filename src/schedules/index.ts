/**
 * Cron schedules: each tick of a schedule enqueues one ordinary task, exactly once across any
 * number of nodes. See docs/schedules.md.
 *
 * @module
 */
export { Schedules, type ScheduleReadOptions } from "./schedules.js";
export { CronService } from "./service.js";
export { scheduledRun, defaultCheckinMarginMs, type ScheduleOptions, type SchedulePatch, type ScheduleOverlap } from "./spec.js";
export type { Schedule, ScheduleRun, ScheduleEvent, ScheduleInfo, ScheduleDetails, ScheduleSyncResult } from "./types.js";
