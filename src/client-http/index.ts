/**
 * `tasklane/client`: a Node worker for remote handlers over HTTP. It imports no database client.
 *
 * @module
 */
export { TasklaneClient, RemoteBusinessError } from "./worker-client.js";
export type { ClientOptions, SubscribeOptions, RemoteTask, RemoteContext } from "./worker-client.js";
