import { and, desc, eq, isNull, lt, sql } from "drizzle-orm";
import { database } from "./client";
import { parkmobileSettings, type Rejection, type RunCounts, taskRuns, tasks } from "./schema";

/** The system tasks a site can run: OPS-COM's name for each, and the Cron Trigger that runs it (wrangler.toml says the same). */
export const TASKS = { parkmobile: { name: "Fetch ParkMobile Stats", schedule: "*/3 * * * *" } } as const;
export type TaskKey = keyof typeof TASKS;

/** A run that has not moved for this long is taken as dead, and the next run may start. */
export const STALE_RUN_SECONDS = 600;

export const emptyCounts = (): RunCounts => ({
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

/** Whether a task is enabled for a site (off until enabled). */
export async function isTaskEnabled(d1: D1Database, siteId: number, task: TaskKey): Promise<boolean> {
  const row = await database(d1)
    .select({ enabled: tasks.enabled })
    .from(tasks)
    .where(and(eq(tasks.siteId, siteId), eq(tasks.task, task)))
    .get();
  return row?.enabled ?? false;
}

/** Turns a task on or off for a site. */
export async function setTaskEnabled(d1: D1Database, siteId: number, task: TaskKey, enabled: boolean, now: number): Promise<void> {
  await database(d1)
    .insert(tasks)
    .values({ siteId, task, enabled, updatedAt: now })
    .onConflictDoUpdate({ target: [tasks.siteId, tasks.task], set: { enabled, updatedAt: now } });
}

/** The sites on which a task is enabled. */
export async function sitesWithTask(d1: D1Database, task: TaskKey): Promise<number[]> {
  const rows = await database(d1)
    .select({ siteId: tasks.siteId })
    .from(tasks)
    .where(and(eq(tasks.task, task), eq(tasks.enabled, true)));
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
        counts: emptyCounts(),
        rejections: [],
      })
      .onConflictDoNothing()
      .returning({ id: taskRuns.id }),
  ]);
  return claimed[0]?.id ?? null;
}

/** Records progress of a running run (its counts so far), which also keeps it from being taken as dead. */
export async function heartbeat(d1: D1Database, runId: number, counts: RunCounts, now: number): Promise<void> {
  await database(d1).update(taskRuns).set({ heartbeatAt: now, counts }).where(eq(taskRuns.id, runId));
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
