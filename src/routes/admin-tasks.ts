import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { seal } from "../auth/sealed";
import { database } from "../db/client";
import { getParkMobileSettings, isTaskEnabled, listRuns, saveParkMobileSettings, setTaskEnabled, TASKS, type TaskRun } from "../db/tasks";
import { nowSeconds } from "../domain/time";
import { AppError, ErrorCode } from "../errors";
import { DEFAULT_BASE_URL } from "../parkmobile/client";
import { credentialContext, runParkMobileImport } from "../parkmobile/import";
import { type AdminContext, type AdminEnv, body, json, SiteParam, security, siteOf, tags, time } from "./admin-common";

/** What admins see of a stored secret: that it is set, never any of it. */
const MASK = "••••••••";

const Run = z
  .object({
    id: z.number().int(),
    task: z.string(),
    trigger: z.enum(["cron", "manual"]),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    outcome: z.enum(["running", "succeeded", "partial", "failed"]),
    message: z.string().nullable(),
    counts: z.object({
      zonesMatched: z.number().int(),
      zonesSkipped: z.number().int(),
      skippedZones: z.array(z.string()).openapi({ description: "ParkMobile signage zone codes with no lot zone of that name." }),
      rightsFetched: z.number().int(),
      created: z.number().int(),
      updated: z.number().int(),
      unchanged: z.number().int(),
      rejected: z.number().int(),
    }),
    rejections: z.array(z.object({ parkingRightId: z.union([z.string(), z.number()]).nullable(), reason: z.string() })),
  })
  .openapi("TaskRun");

const Task = z
  .object({
    task: z.literal("parkmobile"),
    name: z.string(),
    schedule: z.string(),
    enabled: z.boolean(),
    lastRun: Run.nullable(),
  })
  .openapi("Task");

const Settings = z
  .object({
    baseUrl: z.string(),
    username: z.string().nullable(),
    password: z.string().nullable(),
    apiKey: z.string().nullable(),
    configured: z.boolean(),
    updatedAt: z.string().nullable(),
  })
  .openapi("ParkMobileSettings");

const runView = (r: TaskRun) => ({
  id: r.id,
  task: r.task,
  trigger: r.trigger,
  startedAt: time(r.startedAt),
  finishedAt: time(r.finishedAt),
  outcome: r.outcome,
  message: r.message,
  counts: JSON.parse(r.counts) as z.infer<typeof Run>["counts"],
  rejections: JSON.parse(r.rejections) as z.infer<typeof Run>["rejections"],
});

const TaskParam = SiteParam.extend({
  task: z.string().openapi({ param: { name: "task", in: "path" }, description: "The task key.", example: "parkmobile" }),
});

/** The site and task named in the path; an unknown task is 9009 like any unknown record. */
async function siteAndTask(c: AdminContext, params: { site: string; task: string }) {
  if (!(params.task in TASKS))
    throw new AppError(ErrorCode.NotFound, `No task ${params.task}; the tasks are ${Object.keys(TASKS).join(", ")}.`, { field: "task" });
  return siteOf(c, params.site);
}

// Not trimmed: a credential is used exactly as given.
const Secret = (name: string) =>
  z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: `${name}; stored sealed, never shown back.` });

/** The system tasks of a site: ParkMobile settings, enable/disable, run by hand, run log. */
export function registerTaskRoutes(app: OpenAPIHono<AdminEnv>) {
  const settingsView = async (siteId: number, db: ReturnType<typeof database>) => {
    const row = await getParkMobileSettings(db, siteId);
    const masked = (v: string | null | undefined) => (v ? MASK : null);
    return {
      baseUrl: row?.baseUrl ?? DEFAULT_BASE_URL,
      username: masked(row?.username),
      password: masked(row?.password),
      apiKey: masked(row?.apiKey),
      configured: Boolean(row?.username && row.password && row.apiKey),
      updatedAt: row ? time(row.updatedAt) : null,
    };
  };

  app.openapi(
    createRoute({
      method: "get",
      path: "/sites/{site}/parkmobile",
      tags,
      security,
      summary: "Read a site's ParkMobile settings (secrets masked)",
      request: { params: SiteParam },
      responses: { 200: json(Settings, "Settings") },
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      return c.json(await settingsView(site.id, database(c.env.DB)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/sites/{site}/parkmobile",
      tags,
      security,
      summary: "Set a site's ParkMobile credentials and base URL",
      description:
        "Fields left out keep their value; the first save needs all three credentials. Credentials are sealed with AES-GCM under the SETTINGS_KEY secret and never shown back.",
      request: {
        params: SiteParam,
        body: body(
          z
            .object({
              username: Secret("ParkMobile API username"),
              password: Secret("ParkMobile API password"),
              apiKey: Secret("ParkMobile X-API-Key"),
              baseUrl: z
                .string()
                .url()
                .max(200)
                .refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL")
                .optional()
                .openapi({ example: DEFAULT_BASE_URL }),
            })
            .refine((b) => Object.values(b).some((v) => v !== undefined), "needs at least one of username, password, apiKey, baseUrl"),
        ),
      },
      responses: { 200: json(Settings, "Saved") },
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const input = c.req.valid("json");
      const db = database(c.env.DB);
      const current = await getParkMobileSettings(db, site.id);
      const sealed = async (field: "username" | "password" | "apiKey") => {
        const value = input[field];
        return value === undefined ? (current?.[field] ?? null) : seal(c.env.SETTINGS_KEY, value, credentialContext(site.id, field));
      };
      const row = {
        siteId: site.id,
        baseUrl: input.baseUrl ?? current?.baseUrl ?? DEFAULT_BASE_URL,
        username: await sealed("username"),
        password: await sealed("password"),
        apiKey: await sealed("apiKey"),
        updatedAt: nowSeconds(),
      };
      const missing = (["username", "password", "apiKey"] as const).filter((f) => !row[f]);
      if (missing.length > 0) {
        throw new AppError(ErrorCode.Required, `${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} required on the first save.`, {
          field: missing[0],
        });
      }
      await saveParkMobileSettings(db, row);
      return c.json(await settingsView(site.id, db), 200);
    },
  );

  const taskView = async (siteId: number, db: ReturnType<typeof database>) => {
    const [last] = await listRuns(db, siteId, "parkmobile", 1);
    return {
      task: "parkmobile" as const,
      name: TASKS.parkmobile.name,
      schedule: TASKS.parkmobile.schedule,
      enabled: await isTaskEnabled(db, siteId, "parkmobile"),
      lastRun: last ? runView(last) : null,
    };
  };

  app.openapi(
    createRoute({
      method: "get",
      path: "/sites/{site}/tasks",
      tags,
      security,
      summary: "List a site's system tasks",
      request: { params: SiteParam },
      responses: { 200: json(z.object({ tasks: z.array(Task) }), "Tasks") },
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      return c.json({ tasks: [await taskView(site.id, database(c.env.DB))] }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/sites/{site}/tasks/{task}",
      tags,
      security,
      summary: "Enable or disable a system task (tasks are off until enabled)",
      request: { params: TaskParam, body: body(z.object({ enabled: z.boolean() })) },
      responses: { 200: json(Task, "The task") },
    }),
    async (c) => {
      const site = await siteAndTask(c, c.req.valid("param"));
      const db = database(c.env.DB);
      await setTaskEnabled(db, site.id, "parkmobile", c.req.valid("json").enabled, nowSeconds());
      return c.json(await taskView(site.id, db), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/sites/{site}/tasks/{task}/run",
      tags,
      security,
      summary: "Run a system task now (the RUN button), enabled or not; answers the finished run",
      description: "A run already under way for the site answers 9022 (409): never two runs at once.",
      request: { params: TaskParam },
      responses: { 200: json(Run, "The run") },
    }),
    async (c) => {
      const site = await siteAndTask(c, c.req.valid("param"));
      const run = await runParkMobileImport(c.env, site.id, "manual");
      if (!run)
        throw new AppError(ErrorCode.AlreadyExists, "A run of this task is already under way for this site.", {
          field: "task",
          status: 409,
        });
      return c.json(runView(run), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/sites/{site}/tasks/{task}/runs",
      tags,
      security,
      summary: "A task's run log, newest first",
      request: {
        params: TaskParam,
        query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(20).openapi({ example: 20 }) }),
      },
      responses: { 200: json(z.object({ runs: z.array(Run) }), "Runs") },
    }),
    async (c) => {
      const site = await siteAndTask(c, c.req.valid("param"));
      const runs = await listRuns(database(c.env.DB), site.id, "parkmobile", c.req.valid("query").limit);
      return c.json({ runs: runs.map(runView) }, 200);
    },
  );
}
