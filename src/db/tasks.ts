import { and, desc, eq, isNull, lt, sql } from "drizzle-orm";
import { database, statement } from "./client";
import {
  type ImportCounts,
  parkmobileSettings,
  type Rejection,
  type RetentionCounts,
  type RunCounts,
  sites,
  taskRuns,
  tasks,
} from "./schema";

/**
 * The system tasks a site can run: the name people see (OPS-COM's, for the
 * import), the Cron Trigger that runs it for every site that has it enabled
 * (wrangler.toml deploys the same expressions), and whether a site has it
 * enabled before anyone switches it.
 */
export const TASKS = {
  parkmobile: { name: "Fetch ParkMobile Stats", schedule: "*/3 * * * *", enabledByDefault: false },
  retention: { name: "Retention: anonymize, archive, purge", schedule: "0 3 * * *", enabledByDefault: true },
} as const;
export type TaskKey = keyof typeof TASKS;

/** Whether `key` names a task. */
export function isTaskKey(key: string): key is TaskKey {
  return Object.hasOwn(TASKS, key);
}

/** A run that has not moved for this long is taken as dead, and the next run may start. */
export const STALE_RUN_SECONDS = 600;

/** The counts a new run of `task` starts from. */
export function emptyCounts(task: "parkmobile"): ImportCounts;
export function emptyCounts(task: "retention"): RetentionCounts;
export function emptyCounts(task: TaskKey): RunCounts;
export function emptyCounts(task: TaskKey): RunCounts {
  return task === "parkmobile" ? emptyImportCounts() : emptyRetentionCounts();
}

const emptyRetentionCounts = (): RetentionCounts => ({
  anonymized: 0,
  archives: [],
  archivedPermits: 0,
  archivedEvents: 0,
  deletedPermits: 0,
  deletedEvents: 0,
  feedChangesPruned: 0,
  idempotencyKeysPruned: 0,
  taskRunsPruned: 0,
  webhookEventsPruned: 0,
});

const emptyImportCounts = (): ImportCounts => ({
  zonesMatched: 0,
  zonesSkipped: 0,
  skippedZones: [],
  rightsFetched: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  rejected: 0,
});

export type TaskRun = typeof taskRuns.$inferSelect;
export type ParkMobileSettingsRow = typeof parkmobileSettings.$inferSelect;

/** The sealed ParkMobile settings of a site, or null. */
export async function getParkMobileSettings(d1: D1Database, siteId: number): Promise<ParkMobileSettingsRow | null> {
  return (await database(d1).select().from(parkmobileSettings).where(eq(parkmobileSettings.siteId, siteId)).get()) ?? null;
}

/** Saves a site's (already sealed) ParkMobile settings. */
export async function saveParkMobileSettings(d1: D1Database, row: ParkMobileSettingsRow): Promise<void> {
  await database(d1)
    .insert(parkmobileSettings)
    .values(row)
    .onConflictDoUpdate({ target: parkmobileSettings.siteId, set: { ...row, siteId: undefined } });
}

/** Whether a task is enabled for a site (its default until switched). */
export async function isTaskEnabled(d1: D1Database, siteId: number, task: TaskKey): Promise<boolean> {
  const row = await database(d1)
    .select({ enabled: tasks.enabled })
    .from(tasks)
    .where(and(eq(tasks.siteId, siteId), eq(tasks.task, task)))
    .get();
  return row?.enabled ?? TASKS[task].enabledByDefault;
}

/** Turns a task on or off for a site. */
export async function setTaskEnabled(d1: D1Database, siteId: number, task: TaskKey, enabled: boolean, now: number): Promise<void> {
  await database(d1)
    .insert(tasks)
    .values({ siteId, task, enabled, updatedAt: now })
    .onConflictDoUpdate({ target: [tasks.siteId, tasks.task], set: { enabled, updatedAt: now } });
}

/** The sites on which a task is enabled (switched on, or never switched and on by default). */
export async function sitesWithTask(d1: D1Database, task: TaskKey): Promise<number[]> {
  const rows = await database(d1)
    .select({ siteId: sites.id })
    .from(sites)
    .leftJoin(tasks, and(eq(tasks.siteId, sites.id), eq(tasks.task, task)))
    .where(sql`coalesce(${tasks.enabled}, ${TASKS[task].enabledByDefault ? 1 : 0}) = 1`)
    .orderBy(sites.id);
  return rows.map((r) => r.siteId);
}

/** A site's runs of a task, newest first. */
export function listRuns(d1: D1Database, siteId: number, task: TaskKey, limit: number): Promise<TaskRun[]> {
  return database(d1)
    .select()
    .from(taskRuns)
    .where(and(eq(taskRuns.siteId, siteId), eq(taskRuns.task, task)))
    .orderBy(desc(taskRuns.id))
    .limit(limit);
}

/**
 * Starts a run unless one is under way: in one batch, a run silent for
 * {@link STALE_RUN_SECONDS} is closed as failed, then the new run is
 * inserted; the unique index on unfinished runs makes the insert a no-op
 * while another run lives. Returns the new run's id, or null.
 */
export async function claimRun(
  d1: D1Database,
  siteId: number,
  task: TaskKey,
  trigger: "cron" | "manual",
  now: number,
): Promise<number | null> {
  const db = database(d1);
  const [, claimed] = await db.batch([
    db
      .update(taskRuns)
      .set({
        finishedAt: now,
        outcome: "failed",
        message: "Abandoned: the run stopped reporting progress (the Worker was stopped or timed out); the next run picks up the work.",
      })
      .where(
        and(
          eq(taskRuns.siteId, siteId),
          eq(taskRuns.task, task),
          isNull(taskRuns.finishedAt),
          lt(taskRuns.heartbeatAt, now - STALE_RUN_SECONDS),
        ),
      ),
    db
      .insert(taskRuns)
      .values({
        siteId,
        task,
        number: sql`(SELECT coalesce(max(${taskRuns.number}), 0) + 1 FROM ${taskRuns} WHERE ${taskRuns.siteId} = ${siteId} AND ${taskRuns.task} = ${task})`,
        trigger,
        startedAt: now,
        heartbeatAt: now,
        outcome: "running",
        counts: emptyCounts(task),
        rejections: [],
      })
      .onConflictDoNothing()
      .returning({ id: taskRuns.id }),
  ]);
  return claimed[0]?.id ?? null;
}

/** Records progress of a running run (its counts so far), which also keeps it from being taken as dead. */
export async function heartbeat(d1: D1Database, runId: number, counts: RunCounts, now: number): Promise<void> {
  await heartbeatStatement(d1, runId, counts, now).run();
}

/** {@link heartbeat} as a statement, to send in a batch with other writes of the same step. */
export function heartbeatStatement(d1: D1Database, runId: number, counts: RunCounts, now: number): D1PreparedStatement {
  return statement(d1, database(d1).update(taskRuns).set({ heartbeatAt: now, counts }).where(eq(taskRuns.id, runId)));
}

/** Closes a run with its outcome. */
export async function finishRun(
  d1: D1Database,
  runId: number,
  result: { outcome: "succeeded" | "partial" | "failed"; message: string | null; counts: RunCounts; rejections: Rejection[]; now: number },
): Promise<TaskRun> {
  const row = await database(d1)
    .update(taskRuns)
    .set({
      finishedAt: result.now,
      heartbeatAt: result.now,
      outcome: result.outcome,
      message: result.message,
      counts: result.counts,
      rejections: result.rejections,
    })
    .where(eq(taskRuns.id, runId))
    .returning()
    .get();
  return row as TaskRun;
}
