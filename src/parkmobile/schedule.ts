import { sitesWithTask, TASKS } from "../db/tasks";
import type { Fetch } from "./client";
import { runParkMobileImport } from "./import";

/** How many sites import at once in one cron invocation. */
const SITE_CONCURRENCY = 4;

/**
 * The Cron Trigger: on `*\/3 * * * *`, runs "Fetch ParkMobile Stats" for every
 * site that has it enabled. A site whose previous run is still going is
 * skipped (its run claims the site). One site's failure never stops another's:
 * each run records its own outcome.
 */
export async function runScheduledTasks(env: Env, cron: string, fetchImpl: Fetch = fetch): Promise<void> {
  if (cron !== TASKS.parkmobile.schedule) return;
  const queue = await sitesWithTask(env.DB, "parkmobile");
  await Promise.all(
    Array.from({ length: Math.min(SITE_CONCURRENCY, queue.length) }, async () => {
      for (let siteId = queue.shift(); siteId !== undefined; siteId = queue.shift()) {
        await runParkMobileImport(env, siteId, "cron", fetchImpl);
      }
    }),
  );
}
