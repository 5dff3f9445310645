/**
 * `/api/v1/tasks`: enqueue a task and read one back.
 *
 * @module
 */
import { Hono } from "hono";
import { parseOptions } from "../../config.js";
import { NotFoundError } from "../../errors.js";
import type { Tasklane } from "../../tasklane.js";
import { readJsonObject } from "../body.js";
import { enqueueBodySchema } from "../schemas.js";

/** The task routes, to mount under `/api/v1/tasks`. */
export function taskRoutes(tl: Tasklane): Hono {
  const app = new Hono();

  // 201 when this request created the task, 200 when its key already existed: a client retrying
  // after a lost response can tell the two apart and gets the same task either way.
  app.post("/", async (c) => {
    const { topic, payload, ...options } = parseOptions(enqueueBodySchema, await readJsonObject(c), "request body");
    const task = await tl.enqueue(topic, payload, options);
    c.header("Location", `${c.req.path.replace(/\/$/, "")}/${task.id}`);
    return c.json(task, task.created ? 201 : 200);
  });

  app.get("/:id", async (c) => {
    const id = c.req.param("id");
    const task = await tl.getTask(id);
    if (!task) throw new NotFoundError(`no task with id ${id}`, { id });
    return c.json(task);
  });

  return app;
}
