/**
 * The part of `camunda-external-task-client-js` (which ships no types) that the tests use.
 */
declare module "camunda-external-task-client-js" {
  import { EventEmitter } from "node:events";

  export interface ClientConfig {
    baseUrl: string;
    workerId?: string;
    maxTasks?: number;
    interval?: number;
    lockDuration?: number;
    autoPoll?: boolean;
    asyncResponseTimeout?: number;
    usePriority?: boolean;
    interceptors?: ((config: Record<string, unknown> & { headers?: Record<string, string> }) => Record<string, unknown>) | ((config: Record<string, unknown>) => Record<string, unknown>)[];
    use?: ((client: Client) => void) | ((client: Client) => void)[];
  }

  export class Variables {
    constructor(initial?: Record<string, unknown>);
    get(name: string): any;
    getTyped(name: string): { type: string; value: unknown; valueInfo: Record<string, unknown> } | null;
    getAll(): Record<string, any>;
    set(name: string, value: unknown): this;
    setTyped(name: string, typed: { type: string; value: unknown; valueInfo?: Record<string, unknown> }): this;
    setAll(values: Record<string, unknown>): this;
  }

  export interface Task {
    id: string;
    topicName: string;
    workerId: string;
    retries: number | null;
    businessKey: string | null;
    activityId: string;
    processInstanceId: string | null;
    variables: Variables;
  }

  export interface TaskService {
    complete(task: Task, variables?: Variables, localVariables?: Variables): Promise<void>;
    handleFailure(task: Task, options: { errorMessage?: string; errorDetails?: string; retries?: number; retryTimeout?: number }): Promise<void>;
    handleBpmnError(task: Task, errorCode: string, errorMessage?: string, variables?: Variables): Promise<void>;
    extendLock(task: Task, newDuration: number): Promise<void>;
    unlock(task: Task): Promise<void>;
    lock(task: Task, duration: number): Promise<void>;
  }

  export type Handler = (args: { task: Task; taskService: TaskService }) => Promise<void> | void;

  export class Client extends EventEmitter {
    constructor(config: ClientConfig);
    subscribe(topic: string, handler: Handler): { unsubscribe(): void };
    subscribe(topic: string, options: Record<string, unknown>, handler: Handler): { unsubscribe(): void };
    start(): void;
    stop(): void;
  }

  export const logger: ((client: Client) => void) & { level(level: string | number): (client: Client) => void };
}
