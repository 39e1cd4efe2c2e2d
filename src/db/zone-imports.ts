import { and, eq, sql } from "drizzle-orm";
import { database, statement } from "./client";
import { lotZones, sites, zoneImports } from "./schema";

/**
 * What the ParkMobile import keeps per lot zone (`zone_imports`): when the zone last imported successfully (the
 * enforcement feed answers 503 once that is too long ago), and what it was sent when it last compared equal, so
 * that a run sent the same again skips the comparison.
 */

/** A zone's last comparison that found nothing to write: a digest of what was sent, and the site's edit count before it. */
export interface Comparison {
  digest: string;
  edits: number;
}

/**
 * The site's count of ParkMobile edits now (`sites.parkmobile_edits`) and each lot zone's last equal comparison. Read
 * before any zone is compared: an edit made after this read moves the count past what the run stores.
 */
export async function zoneComparisons(d1: D1Database, siteId: number): Promise<{ edits: number; zones: Map<number, Comparison> }> {
  const db = database(d1);
  const [site, zones] = await db.batch([
    db.select({ edits: sites.parkmobileEdits }).from(sites).where(eq(sites.id, siteId)),
    db
      .select({ lotZoneId: zoneImports.lotZoneId, digest: zoneImports.comparedDigest, edits: zoneImports.comparedEdits })
      .from(zoneImports)
      .innerJoin(lotZones, and(eq(lotZones.id, zoneImports.lotZoneId), eq(lotZones.siteId, siteId))),
  ]);
  const compared = new Map<number, Comparison>();
  for (const z of zones) if (z.digest !== null && z.edits !== null) compared.set(z.lotZoneId, { digest: z.digest, edits: z.edits });
  return { edits: site[0]?.edits ?? 0, zones: compared };
}

/**
 * Records that a lot zone imported from ParkMobile successfully at `now` in run `runId`, with its comparison when it
 * found nothing to write (null otherwise, which clears the last one); nothing if the zone was removed meanwhile. The
 * comparison is kept only while the run is under way: once it is finished (or closed as abandoned), another run
 * may have written since.
 */
export function markZoneImported(
  d1: D1Database,
  q: { lotZoneId: number; now: number; runId: number; compared: Comparison | null },
): D1PreparedStatement {
  const live = sql`EXISTS (SELECT 1 FROM task_runs WHERE id = ${q.runId} AND finished_at IS NULL)`;
  // Raw: INSERT … SELECT … ON CONFLICT (a zone removed during the run must not fail the run's progress write).
  return statement(
    d1,
    sql`INSERT INTO zone_imports (lot_zone_id, last_success_at, compared_digest, compared_edits)
        SELECT id, ${q.now}, CASE WHEN ${live} THEN ${q.compared?.digest ?? null} END, CASE WHEN ${live} THEN ${q.compared?.edits ?? null} END
        FROM lot_zones WHERE id = ${q.lotZoneId} AND true
        ON CONFLICT (lot_zone_id) DO UPDATE SET last_success_at = excluded.last_success_at,
          compared_digest = excluded.compared_digest, compared_edits = excluded.compared_edits`,
  );
}
