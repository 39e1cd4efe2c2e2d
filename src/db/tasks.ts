import { and, desc, eq, sql } from "drizzle-orm";
import { type Database, statement } from "./client";
import { parkmobileSettings, taskRuns, tasks } from "./schema";

/** The system tasks a site can run; OPS-COM's name for each. */
export const TASKS = { parkmobile: { name: "Fetch ParkMobile Stats", schedule: "*/3 * * * *" } } as const;
export type TaskKey = keyof typeof TASKS;

/** A run that has not moved for this long is taken as dead, and the next run may start. */
export const STALE_RUN_SECONDS = 600;

export interface RunCounts {
  zonesMatched: number;
  zonesSkipped: number;
  skippedZones: string[];
  rightsFetched: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

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

/** The sealed ParkMobile settings of a site, or null. */
export function getParkMobileSettings(db: Database, siteId: number) {
  return db.select().from(parkmobileSettings).where(eq(parkmobileSettings.siteId, siteId)).get();
}

/** Saves a site's (already sealed) ParkMobile settings. */
export async function saveParkMobileSettings(db: Database, row: typeof parkmobileSettings.$inferInsert) {
  const [saved] = await db
    .insert(parkmobileSettings)
    .values(row)
    .onConflictDoUpdate({ target: parkmobileSettings.siteId, set: { ...row, siteId: undefined } })
    .returning();
  return saved as typeof parkmobileSettings.$inferSelect;
}

/** Whether a task is enabled for a site (off until enabled). */
export async function isTaskEnabled(db: Database, siteId: number, task: TaskKey): Promise<boolean> {
  const row = await db
    .select()
    .from(tasks)
    .where(and(eq(tasks.siteId, siteId), eq(tasks.task, task)))
    .get();
  return row?.enabled ?? false;
}

/** Turns a task on or off for a site. */
export async function setTaskEnabled(db: Database, siteId: number, task: TaskKey, enabled: boolean, now: number) {
  await db
    .insert(tasks)
    .values({ siteId, task, enabled, updatedAt: now })
    .onConflictDoUpdate({ target: [tasks.siteId, tasks.task], set: { enabled, updatedAt: now } });
}

/** The sites on which a task is enabled. */
export async function sitesWithTask(db: Database, task: TaskKey): Promise<number[]> {
  const rows = await db
    .select({ siteId: tasks.siteId })
    .from(tasks)
    .where(and(eq(tasks.task, task), eq(tasks.enabled, true)));
  return rows.map((r) => r.siteId);
}

/** A site's runs of a task, newest first. */
export function listRuns(db: Database, siteId: number, task: TaskKey, limit: number): Promise<TaskRun[]> {
  return db
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
  const [, claimed] = await d1.batch<{ id: number }>([
    statement(
      d1,
      sql`UPDATE task_runs SET finished_at = ${now}, outcome = 'failed',
            message = 'Abandoned: the run stopped reporting progress (the Worker was stopped or timed out); the next run picks up the work.'
          WHERE site_id = ${siteId} AND task = ${task} AND finished_at IS NULL AND heartbeat_at < ${now - STALE_RUN_SECONDS}`,
    ),
    statement(
      d1,
      sql`INSERT INTO task_runs (site_id, task, trigger, started_at, heartbeat_at, outcome, counts, rejections)
          VALUES (${siteId}, ${task}, ${trigger}, ${now}, ${now}, 'running', ${JSON.stringify(emptyCounts())}, '[]')
          ON CONFLICT DO NOTHING RETURNING id`,
    ),
  ]);
  return claimed?.results[0]?.id ?? null;
}

/** Records progress of a running run (its counts so far), which also keeps it from being taken as dead. */
export async function heartbeat(db: Database, runId: number, counts: RunCounts, now: number) {
  await db
    .update(taskRuns)
    .set({ heartbeatAt: now, counts: JSON.stringify(counts) })
    .where(eq(taskRuns.id, runId));
}

/** Closes a run with its outcome. */
export async function finishRun(
  db: Database,
  runId: number,
  result: { outcome: "succeeded" | "partial" | "failed"; message: string | null; counts: RunCounts; rejections: unknown[]; now: number },
): Promise<TaskRun> {
  const [row] = await db
    .update(taskRuns)
    .set({
      finishedAt: result.now,
      heartbeatAt: result.now,
      outcome: result.outcome,
      message: result.message,
      counts: JSON.stringify(result.counts),
      rejections: JSON.stringify(result.rejections),
    })
    .where(eq(taskRuns.id, runId))
    .returning();
  return row as TaskRun;
}
