import { IDEMPOTENCY_WINDOW_SECONDS } from "../db/permits/push";
import {
  anonymizeBatch,
  deleteArchived,
  earliestEndBefore,
  endedBetween,
  permitsWithHistory,
  pruneFeedChanges,
  pruneIdempotencyKeys,
  pruneTaskRuns,
  siteZoneIds,
} from "../db/retention";
import type { RetentionCounts } from "../db/schema";
import { findSiteById, type Site } from "../db/sites";
import { claimRun, emptyCounts, finishRun, heartbeat, type TaskRun } from "../db/tasks";
import { pruneWebhookEvents } from "../db/webhooks";
import { FEED_LOG_KEEP_SECONDS } from "../domain/feed";
import { anonymizeBefore, archiveBefore, archiveKey, monthOf, monthSpan } from "../domain/retention";
import { nowSeconds } from "../domain/time";
import { type ArchiveLine, ArchiveWriter, archiveLines, lineId } from "./archive";

/** Rows per statement: each batch holds D1 for a few milliseconds. */
export const RETENTION_BATCH = 500;

/** Repeats a bounded step until it does less than a full batch; returns the total it did. */
async function drain(step: () => Promise<number>, after: () => Promise<void>): Promise<number> {
  let total = 0;
  for (let done = RETENTION_BATCH; done === RETENTION_BATCH; ) {
    done = await step();
    total += done;
    if (done > 0) await after();
  }
  return total;
}

/**
 * The retention task of one site, as the daily Cron Trigger (or the RUN
 * button) runs it:
 *
 * 1. housekeeping: the feed's change log past 25 hours, push Idempotency-Key
 *    records past their 24 hours, task run logs and webhook events (with
 *    their delivery logs) older than the plate horizon;
 * 2. anonymize: plates of permits that ended more than N days ago;
 * 3. archive: each whole month whose permits ended more than M months ago is
 *    written to R2 as one object (permits with their history), then deleted
 *    from D1.
 *
 * Every step works in bounded batches and is safe to repeat: a run killed at
 * any point leaves D1 and R2 such that the next run finishes the job, losing
 * nothing and archiving nothing twice (see {@link archiveMonth}). Never two
 * runs at once for a site: returns null if one is under way.
 */
export async function runRetention(env: Env, siteId: number, trigger: "cron" | "manual"): Promise<TaskRun | null> {
  const runId = await claimRun(env.DB, siteId, "retention", trigger, nowSeconds());
  if (runId === null) return null;
  const counts = emptyCounts("retention");
  const beat = () => heartbeat(env.DB, runId, counts, nowSeconds());
  try {
    const site = await findSiteById(env.DB, siteId);
    if (!site) throw new Error(`site ${siteId} no longer exists`);
    const now = nowSeconds();
    const plateHorizon = anonymizeBefore(now, site.anonymizeAfterDays);

    for (const zoneId of await siteZoneIds(env.DB, siteId)) {
      counts.feedChangesPruned += await drain(() => pruneFeedChanges(env.DB, zoneId, now - FEED_LOG_KEEP_SECONDS, RETENTION_BATCH), beat);
    }
    const keysBefore = now - IDEMPOTENCY_WINDOW_SECONDS - 3600;
    counts.idempotencyKeysPruned = await drain(() => pruneIdempotencyKeys(env.DB, siteId, keysBefore, RETENTION_BATCH), beat);
    counts.taskRunsPruned = await drain(() => pruneTaskRuns(env.DB, siteId, plateHorizon, RETENTION_BATCH), beat);
    counts.webhookEventsPruned = await drain(() => pruneWebhookEvents(env.DB, siteId, plateHorizon, RETENTION_BATCH), beat);

    counts.anonymized = await drain(() => anonymizeBatch(env.DB, siteId, plateHorizon, now, RETENTION_BATCH), beat);

    const cutoff = archiveBefore(now, site.archiveAfterMonths);
    // Month by month, oldest first; a month is looked at once per run, so a permit that could not be deleted waits for the next.
    let from = 0;
    for (
      let end = await earliestEndBefore(env.DB, siteId, cutoff, from);
      end !== null;
      end = await earliestEndBefore(env.DB, siteId, cutoff, from)
    ) {
      const month = monthOf(end);
      await archiveMonth(env, site, month, counts, beat);
      from = monthSpan(month).to;
    }
    return await finishRun(env.DB, runId, { outcome: "succeeded", message: null, counts, rejections: [], now: nowSeconds() });
  } catch (error) {
    console.error(
      JSON.stringify({ task: "retention", siteId, runId, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
    const message = `Stopped: ${error instanceof Error ? error.message : String(error)}. What was done is kept; the next run continues from there.`;
    return await finishRun(env.DB, runId, { outcome: "failed", message, counts, rejections: [], now: nowSeconds() });
  }
}

/**
 * Archives the permits of a site that ended in `month`, then deletes them
 * from D1. The object is the whole month: what an earlier run already put in
 * it (a late permit, or a run that died before its deletes finished) is read
 * back and written again with what D1 still holds, each permit once (D1's
 * copy wins). The new object replaces the old only when complete; D1 rows are
 * deleted after that, in batches, each only if unchanged since it was read.
 * So wherever a run stops, every permit is in D1, in the object, or both, and
 * never twice in the object.
 */
async function archiveMonth(env: Env, site: Site, month: string, counts: RetentionCounts, beat: () => Promise<void>): Promise<void> {
  const { from, to } = monthSpan(month);
  const ids: string[] = [];
  for (let after: { endAt: number; rowid: number } | null = null; ; ) {
    const page = await endedBetween(env.DB, { siteId: site.id, from, to, after, limit: 2_000 });
    ids.push(...page.map((r) => r.id));
    const last = page.at(-1);
    if (!last || page.length < 2_000) break;
    after = last;
  }
  if (ids.length === 0) return;
  const inD1 = new Set(ids);
  const key = archiveKey(site.slug, month);

  // What the object already holds and D1 no longer does: kept as it is.
  let kept = 0;
  const old = await env.ARCHIVE.get(key);
  if (old) for await (const line of archiveLines(old.body)) if (!inD1.has(lineId(line))) kept++;

  const writer = new ArchiveWriter(env.ARCHIVE, key, { site: site.slug, month, permits: String(kept + ids.length) });
  const archived: { id: string; version: number }[] = [];
  let events = 0;
  try {
    const again = old ? await env.ARCHIVE.get(key) : null;
    if (again) for await (const line of archiveLines(again.body)) if (!inD1.has(lineId(line))) await writer.write(line);
    for (let i = 0; i < ids.length; i += RETENTION_BATCH) {
      const { rows, events: history } = await permitsWithHistory(env.DB, ids.slice(i, i + RETENTION_BATCH));
      const byPermit = Map.groupBy(history, (e) => e.permitId);
      for (const { permit, lotZone } of rows) {
        const { plateFolded: _derived, ...stored } = permit;
        const lines = (byPermit.get(permit.id) ?? []).map(({ version, action, changes, actor, at }) => ({
          version,
          action,
          changes,
          actor,
          at,
        }));
        await writer.write({ permit: stored, lotZone, history: lines } satisfies ArchiveLine);
        archived.push({ id: permit.id, version: permit.version });
        events += lines.length;
      }
    }
    if (archived.length !== ids.length)
      throw new Error(`${month}: ${ids.length - archived.length} permit(s) vanished while being archived`);
    await writer.finish();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  counts.archives.push(key);
  counts.archivedPermits += archived.length;
  counts.archivedEvents += events;
  await beat();

  for (let i = 0; i < archived.length; i += RETENTION_BATCH) {
    const deleted = await deleteArchived(env.DB, archived.slice(i, i + RETENTION_BATCH));
    counts.deletedPermits += deleted.permits;
    counts.deletedEvents += deleted.events;
    await beat();
  }
}
