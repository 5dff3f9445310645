/**
 * Remote workers over HTTP: the engine operations (`tl.external`) and the Camunda 7 shapes.
 *
 * @module
 */
export { ExternalTasks } from "./external-tasks.js";
export type { ExternalTask, ExternalFailure, ExternalTaskFilter, ExternalTaskPage, FetchAndLockOptions, FetchTopic } from "./types.js";
export { typedValue, taskVariables, plainValue, variablesToResult, camundaDate, camundaTask, type TypedValue } from "./camunda.js";
