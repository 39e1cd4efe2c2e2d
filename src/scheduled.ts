import { sitesWithTask, TASKS, type TaskKey, type TaskRun } from "./db/tasks";
import { nowSeconds } from "./domain/time";
import type { Fetch } from "./parkmobile/client";
import { runParkMobileImport } from "./parkmobile/import";
import { runRetention } from "./retention/run";
import { sweepWebhooks } from "./webhooks/sweep";

/** The webhook sweep (./webhooks/sweep.ts) runs on the most frequent schedule, the import's: every 3 minutes. */
export const WEBHOOK_SWEEP_SCHEDULE = TASKS.parkmobile.schedule;

/** The webhook sweep; its failure is logged and never stops the tasks (the next sweep takes up what it left). */
async function sweep(env: Env): Promise<void> {
  try {
    const counts = await sweepWebhooks(env, nowSeconds());
    if (counts.resent + counts.failed + counts.restarted > 0) console.log(JSON.stringify({ webhooks: "sweep", ...counts }));
  } catch (error) {
    console.error(
      JSON.stringify({ webhooks: "sweep failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  }
}

/** How many sites run one task at once in one cron invocation. */
const SITE_CONCURRENCY = 4;

/** Runs `task` for one site now; null when a run of it is already under way there. */
export function runTask(
  env: Env,
  task: TaskKey,
  siteId: number,
  trigger: "cron" | "manual",
  fetchImpl: Fetch = fetch,
): Promise<TaskRun | null> {
  switch (task) {
    case "parkmobile":
      return runParkMobileImport(env, siteId, trigger, fetchImpl);
    case "retention":
      return runRetention(env, siteId, trigger);
  }
}

/**
 * The Cron Triggers: each expression runs the tasks whose schedule it is
 * (`TASKS`: the import every 3 minutes, retention daily), for every site that
 * has the task enabled, a few sites at a time. A site whose previous run of
 * the task is still going is skipped (its run claims the site). One site's
 * failure never stops another's: each run records its own outcome.
 */
export async function runScheduledTasks(env: Env, cron: string, fetchImpl: Fetch = fetch): Promise<void> {
  if (cron === WEBHOOK_SWEEP_SCHEDULE) await sweep(env);
  const due = (Object.keys(TASKS) as TaskKey[]).filter((task) => TASKS[task].schedule === cron);
  for (const task of due) {
    const queue = await sitesWithTask(env.DB, task);
    await Promise.all(
      Array.from({ length: Math.min(SITE_CONCURRENCY, queue.length) }, async () => {
        for (let siteId = queue.shift(); siteId !== undefined; siteId = queue.shift()) {
          await runTask(env, task, siteId, "cron", fetchImpl);
        }
      }),
    );
  }
}
