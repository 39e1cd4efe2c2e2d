import { z } from "@hono/zod-openapi";
import type { Site } from "../../db/sites";
import {
  getParkMobileSettings,
  isTaskEnabled,
  isTaskKey,
  listRuns,
  setTaskEnabled,
  TASKS,
  type TaskKey,
  type TaskRun,
} from "../../db/tasks";
import { formatWireTime, nowSeconds } from "../../domain/time";
import { AppError, ErrorCode } from "../../errors";
import { runTask } from "../../scheduled";
import { type AdminApp, type AdminContext, adminRoute, body, json, SiteParam, siteOf } from "./route";

/** What a run of the ParkMobile import counted. */
export const ImportCountsView = z
  .object({
    zonesMatched: z.number().int(),
    zonesSkipped: z.number().int(),
    skippedZones: z.array(z.string()).openapi({ description: "ParkMobile signage zone codes with no lot zone of that name." }),
    rightsFetched: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    rejected: z.number().int(),
  })
  .openapi("ImportCounts");

/** What a retention run did. */
export const RetentionCountsView = z
  .object({
    anonymized: z.number().int().openapi({ description: "Permits whose plate was removed." }),
    archives: z.array(z.string()).openapi({ description: "The R2 objects written, one per month." }),
    archivedPermits: z.number().int(),
    archivedEvents: z.number().int(),
    deletedPermits: z.number().int(),
    deletedEvents: z.number().int(),
    feedChangesPruned: z.number().int(),
    idempotencyKeysPruned: z.number().int(),
    taskRunsPruned: z.number().int(),
    webhookEventsPruned: z
      .number()
      .int()
      .optional()
      .openapi({ description: "Webhook events past the plate horizon, with their delivery logs (absent in runs from before webhooks)." }),
  })
  .openapi("RetentionCounts");

export const RunView = z
  .object({
    id: z.number().int(),
    number: z.number().int().openapi({ description: "The run's number among the site's runs of the task, from 1." }),
    task: z.string(),
    trigger: z.enum(["cron", "manual"]),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    outcome: z.enum(["running", "succeeded", "partial", "failed"]),
    message: z.string().nullable(),
    counts: z
      .union([ImportCountsView, RetentionCountsView])
      .openapi({ description: "ImportCounts for parkmobile, RetentionCounts for retention." }),
    rejections: z.array(z.object({ parkingRightId: z.union([z.string(), z.number()]).nullable(), reason: z.string() })),
  })
  .openapi("TaskRun");
export const RunList = z.object({ runs: z.array(RunView) }).openapi("TaskRunList");

export const TaskView = z
  .object({
    task: z.enum(Object.keys(TASKS) as [TaskKey, ...TaskKey[]]),
    name: z.string(),
    schedule: z.string().openapi({ description: "The Cron Trigger that runs it for every site that enabled it." }),
    enabled: z.boolean().openapi({
      description: "Whether the Cron Trigger runs it for this site (parkmobile: off until enabled; retention: on until disabled).",
    }),
    lastRun: RunView.nullable(),
  })
  .openapi("Task");
export const TaskList = z.object({ tasks: z.array(TaskView) }).openapi("TaskList");

const runView = (r: TaskRun): z.infer<typeof RunView> => ({
  id: r.id,
  number: r.number,
  task: r.task,
  trigger: r.trigger,
  startedAt: formatWireTime(r.startedAt),
  finishedAt: formatWireTime(r.finishedAt),
  outcome: r.outcome,
  message: r.message,
  counts: r.counts,
  rejections: r.rejections,
});

async function taskView(d1: D1Database, siteId: number, task: TaskKey): Promise<z.infer<typeof TaskView>> {
  const [last] = await listRuns(d1, siteId, task, 1);
  return {
    task,
    name: TASKS[task].name,
    schedule: TASKS[task].schedule,
    enabled: await isTaskEnabled(d1, siteId, task),
    lastRun: last ? runView(last) : null,
  };
}

export const TaskSwitch = z.object({ enabled: z.boolean() });
export const RunsQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .default(20)
    .openapi({ description: "How many runs, newest first: 1 to 200.", format: "int32", example: 20 }),
});

const TaskParam = SiteParam.extend({
  task: z.string().openapi({ param: { name: "task", in: "path" }, description: "The task key.", example: "parkmobile" }),
});

/** The site and task named in the path; an unknown task is 9009 like any unknown record. */
async function siteAndTask(c: AdminContext, params: { site: string; task: string }): Promise<{ site: Site; task: TaskKey }> {
  const { task } = params;
  if (!isTaskKey(task)) {
    throw new AppError(ErrorCode.NotFound, `No task ${task}; the tasks are ${Object.keys(TASKS).join(", ")}.`, { field: "task" });
  }
  return { site: await siteOf(c, params.site), task };
}

/** The system tasks of a site: enable/disable, run by hand, run log. */
export function registerTaskRoutes(app: AdminApp) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/tasks",
      operationId: "listTasks",
      summary: "List a site's system tasks",
      request: { params: SiteParam },
      responses: { 200: json(TaskList, "Tasks") },
      errors: [400, 404],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const keys = Object.keys(TASKS) as TaskKey[];
      return c.json({ tasks: await Promise.all(keys.map((task) => taskView(c.env.DB, site.id, task))) }, 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "patch",
      path: "/sites/{site}/tasks/{task}",
      operationId: "setTaskEnabled",
      summary: "Enable or disable a system task for a site (parkmobile is off until enabled, retention on until disabled)",
      description:
        "The ParkMobile import can be enabled only once its credentials are saved (9031 otherwise): enabled without them, every scheduled run would fail.",
      request: { params: TaskParam, body: body(TaskSwitch) },
      responses: { 200: json(TaskView, "The task") },
      errors: [400, 404, 413, 415],
    }),
    async (c) => {
      const { site, task } = await siteAndTask(c, c.req.valid("param"));
      const { enabled } = c.req.valid("json");
      if (enabled && task === "parkmobile") {
        const settings = await getParkMobileSettings(c.env.DB, site.id);
        if (!(settings?.username && settings.password && settings.apiKey)) {
          throw new AppError(
            ErrorCode.Required,
            "Save the ParkMobile credentials (API username, API password and X-API-Key) before enabling the import: without them every run fails.",
            { field: "enabled" },
          );
        }
      }
      await setTaskEnabled(c.env.DB, site.id, task, enabled, nowSeconds());
      return c.json(await taskView(c.env.DB, site.id, task), 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "post",
      path: "/sites/{site}/tasks/{task}/run",
      operationId: "runTask",
      summary: "Run a system task now (the RUN button), enabled or not; answers the finished run",
      description: "A run already under way for the site answers 9022 (409): never two runs at once.",
      request: { params: TaskParam },
      responses: { 200: json(RunView, "The run") },
      errors: [400, 404, 409],
    }),
    async (c) => {
      const { site, task } = await siteAndTask(c, c.req.valid("param"));
      const run = await runTask(c.env, task, site.id, "manual");
      if (!run) throw new AppError(ErrorCode.AlreadyExists, "A run of this task is already under way for this site.", { field: "task" });
      return c.json(runView(run), 200);
    },
  );

  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/tasks/{task}/runs",
      operationId: "listTaskRuns",
      summary: "A task's run log, newest first",
      request: {
        params: TaskParam,
        query: RunsQuery,
      },
      responses: { 200: json(RunList, "Runs") },
      errors: [400, 404],
    }),
    async (c) => {
      const { site, task } = await siteAndTask(c, c.req.valid("param"));
      const runs = await listRuns(c.env.DB, site.id, task, c.req.valid("query").limit);
      return c.json({ runs: runs.map(runView) }, 200);
    },
  );
}
