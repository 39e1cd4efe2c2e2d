import { unseal } from "../auth/sealed";
import { sentDigest, syncSourceRecords } from "../db/permits/bulk";
import type { Rejection } from "../db/schema";
import { loadSiteConfig } from "../db/sites";
import { claimRun, emptyCounts, finishRun, getParkMobileSettings, heartbeatStatement, type TaskRun } from "../db/tasks";
import { type Comparison, markZoneImported, zoneComparisons } from "../db/zone-imports";
import { SOURCES, type SourceRecord } from "../domain/permit";
import { type ZoneConfig, zoneByKey } from "../domain/site";
import { nowSeconds } from "../domain/time";
import { publishesAny, publishImportRun, publishPermitWrites } from "../webhooks/publish";
import { type Fetch, ParkMobileClient, ParkMobileError, type ParkMobileZone } from "./client";
import { mapRight } from "./mapping";

/** How many zones are fetched at once. */
const ZONE_CONCURRENCY = 4;
/** How many rejected rights the run log keeps, with their reasons. */
const REJECTIONS_KEPT = 20;
/**
 * How often, at most, a run writes its progress: the zones imported since (their marks, each at the moment its
 * import finished) and its heartbeat, in one batch; the rest at its end. Far below STALE_RUN_SECONDS, so a live run
 * is never taken as dead, and far below the feed's 15 minutes, so a zone's mark is never late enough to matter;
 * a run that changes nothing makes two writes, not one per zone.
 */
const PROGRESS_EVERY_SECONDS = 15;

/** The context of a sealed credential: binds it to its site and field. */
export const credentialContext = (siteId: number, field: "username" | "password" | "apiKey") => `parkmobile:${siteId}:${field}`;

/**
 * A client on the site's stored ParkMobile settings. Throws a fatal
 * {@link ParkMobileError} when they are missing or cannot be opened.
 */
async function openClient(env: Env, siteId: number, fetchImpl: Fetch): Promise<ParkMobileClient> {
  const settings = await getParkMobileSettings(env.DB, siteId);
  if (!settings?.username || !settings.password || !settings.apiKey) {
    throw new ParkMobileError("ParkMobile credentials are not set for this site (API username, API password and X-API-Key).", true);
  }
  const open = (value: string, field: "username" | "password" | "apiKey") =>
    unseal(env.SETTINGS_KEY, value, credentialContext(siteId, field)).catch(() => {
      throw new ParkMobileError("The stored ParkMobile credentials cannot be opened (was SETTINGS_KEY changed?): save them again.", true);
    });
  return new ParkMobileClient(
    {
      baseUrl: settings.baseUrl,
      username: await open(settings.username, "username"),
      password: await open(settings.password, "password"),
      apiKey: await open(settings.apiKey, "apiKey"),
    },
    fetchImpl,
  );
}

/**
 * ParkMobile's zones split by whether a lot zone of the site imports them,
 * each code once: a signage code names the lot zone numbered so, else the one
 * without a number named so (as a session's zone_number does). Read from D1,
 * not the cache: a lot zone added a moment ago must match at once.
 */
async function matchZones(env: Env, siteId: number, remote: ParkMobileZone[]) {
  const site = await loadSiteConfig(env.DB, siteId);
  const codes = [...new Set(remote.map((z) => z.signageZoneCode))];
  const matched: { code: string; lotZone: ZoneConfig }[] = [];
  const skipped: string[] = [];
  for (const code of codes) {
    const lotZone = zoneByKey(site?.zones ?? [], code);
    if (lotZone) matched.push({ code, lotZone });
    else skipped.push(code);
  }
  return { site, matched, skipped };
}

/** What checking a site's ParkMobile settings found: the zones it would import and skip, or why it failed. */
export type ConnectionCheck = { ok: true; matched: string[]; skipped: string[] } | { ok: false; message: string };

/**
 * Checks a site's saved ParkMobile credentials against ParkMobile without
 * importing anything: reads the zone list, and says which zones a run would
 * import and skip.
 */
export async function checkParkMobileConnection(env: Env, siteId: number, fetchImpl: Fetch = fetch): Promise<ConnectionCheck> {
  try {
    const client = await openClient(env, siteId, fetchImpl);
    const { matched, skipped } = await matchZones(env, siteId, await client.zones());
    return { ok: true, matched: matched.map((m) => m.code), skipped };
  } catch (error) {
    if (error instanceof ParkMobileError) return { ok: false, message: error.message };
    throw error;
  }
}

/**
 * "Fetch ParkMobile Stats" for one site: reads ParkMobile's zones, keeps
 * those whose signage zone code names a lot zone of the site (its number, or
 * the name of a zone without a number, exactly),
 * fetches each one's parking rights and brings the site's ParkMobile permits
 * up to date (keyed by parkingRightId), skipping the comparison of a zone
 * sent what it was sent when it last compared equal, with no change to the
 * site's stored ParkMobile permits since (`zone_imports`,
 * `sites.parkmobile_edits`).
 * Zones without a lot zone are skipped and named in the log. Never two runs at once for a site: returns null if
 * one is under way. Faults end in the run log, never in an exception:
 * refused credentials or an unusable zone list fail the run; a zone that
 * fails is reported and the others still import (outcome `partial`); a bad
 * right is rejected and counted.
 */
export async function runParkMobileImport(
  env: Env,
  siteId: number,
  trigger: "cron" | "manual",
  fetchImpl: Fetch = fetch,
): Promise<TaskRun | null> {
  const runId = await claimRun(env.DB, siteId, "parkmobile", trigger, nowSeconds());
  if (runId === null) return null;

  const counts = emptyCounts("parkmobile");
  const rejections: Rejection[] = [];
  const zoneFailures: string[] = [];
  // The lot zones imported since progress was last written: the enforcement feed answers for each once it is marked.
  let imported: { lotZoneId: number; at: number; compared: Comparison | null }[] = [];
  let reportedAt = nowSeconds();
  const writeProgress = async (now: number) => {
    const marks = imported.map(({ lotZoneId, at, compared }) => markZoneImported(env.DB, { lotZoneId, now: at, runId, compared }));
    imported = [];
    reportedAt = now;
    await env.DB.batch([...marks, heartbeatStatement(env.DB, runId, counts, now)]);
  };
  try {
    const client = await openClient(env, siteId, fetchImpl);
    const { site, matched, skipped } = await matchZones(env, siteId, await client.zones());
    // Read before any zone is compared (what a zone's comparison is stored with, and what a skip is checked against).
    const comparisons = await zoneComparisons(env.DB, siteId);
    counts.skippedZones = skipped;
    counts.zonesMatched = matched.length;
    counts.zonesSkipped = counts.skippedZones.length;

    const queue = [...matched];
    const importZone = async ({ code, lotZone }: (typeof matched)[number]) => {
      let raw: unknown[];
      try {
        raw = await client.rightsOfZone(code);
      } catch (error) {
        if (error instanceof ParkMobileError && error.fatal) throw error;
        zoneFailures.push(`zone ${code}: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      counts.rightsFetched += raw.length;
      const records: SourceRecord[] = [];
      for (const item of raw) {
        const mapped = mapRight(item);
        if (mapped.ok) records.push(mapped.right);
        else {
          counts.rejected++;
          if (rejections.length < REJECTIONS_KEPT) rejections.push({ parkingRightId: mapped.parkingRightId, reason: mapped.reason });
        }
      }
      // The same right listed twice in one answer is imported once.
      const unique = [...new Map(records.map((r) => [r.externalId, r])).values()];
      counts.unchanged += records.length - unique.length;
      const zone = { zoneName: code, lotZoneId: lotZone.id, currency: site?.currencies[0] ?? null };
      // Sent what the zone's last comparison found stored as sent, with no change to the site's stored ParkMobile
      // permits since (new ones do not count): comparing again would find the same, so the zone is not compared.
      const digest = await sentDigest(zone, unique);
      const last = comparisons.zones.get(lotZone.id);
      let compared: Comparison | null = { digest, edits: comparisons.edits };
      if (last?.digest === digest && last.edits === comparisons.edits) counts.unchanged += unique.length;
      else {
        const result = await syncSourceRecords(env.DB, {
          siteId,
          source: SOURCES.parkmobile,
          ...zone,
          records: unique,
          actor: "job:parkmobile",
          now: nowSeconds(),
          writes: publishesAny(site, ["create", "update"]),
        });
        counts.created += result.created;
        counts.updated += result.updated;
        counts.unchanged += result.unchanged;
        if (!result.equal) compared = null;
        if (site && result.writes) await publishPermitWrites(env, site, result.writes);
      }
      // The zone's permits are known as of now: the enforcement feed answers for it (503 once this is 15 minutes old).
      const now = nowSeconds();
      imported.push({ lotZoneId: lotZone.id, at: now, compared });
      if (now - reportedAt >= PROGRESS_EVERY_SECONDS) await writeProgress(now);
    };
    await Promise.all(
      Array.from({ length: Math.min(ZONE_CONCURRENCY, queue.length) }, async () => {
        for (let zone = queue.shift(); zone !== undefined; zone = queue.shift()) await importZone(zone);
      }),
    );
    if (imported.length > 0) await writeProgress(nowSeconds());
    const outcome = zoneFailures.length === 0 ? "succeeded" : zoneFailures.length === matched.length ? "failed" : "partial";
    return await finished(
      env,
      await finishRun(env.DB, runId, { outcome, message: zoneFailures.join(" ") || null, counts, rejections, now: nowSeconds() }),
    );
  } catch (error) {
    // Zones imported before the failure did import: their marks are written all the same, and failing to write them
    // (D1 itself failing) must not keep the run from being closed below; the next run marks them.
    if (imported.length > 0) await writeProgress(nowSeconds()).catch(() => undefined);
    const message =
      error instanceof ParkMobileError ? error.message : `Unexpected failure: ${error instanceof Error ? error.message : String(error)}`;
    if (!(error instanceof ParkMobileError)) console.error(JSON.stringify({ task: "parkmobile", siteId, runId, error: String(error) }));
    return await finished(
      env,
      await finishRun(env.DB, runId, {
        outcome: "failed",
        message: [message, ...zoneFailures].join(" "),
        counts,
        rejections,
        now: nowSeconds(),
      }),
    );
  }
}

/** A finished run, once its end is published to the site's webhooks (`import.finished`, `import.failed`). */
async function finished(env: Env, run: TaskRun): Promise<TaskRun> {
  await publishImportRun(env, run.siteId, run);
  return run;
}
