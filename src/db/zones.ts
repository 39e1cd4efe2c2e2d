import { and, asc, eq, isNull, or, sql } from "drizzle-orm";
import { nowSeconds } from "../domain/time";
import { type D1Binding, database, isUniqueViolation } from "./client";
import { lotZones, permitChanges, permits } from "./schema";

export type LotZone = typeof lotZones.$inferSelect;

/** A site's lot zones by name. */
export function listZones(d1: D1Binding, siteId: number): Promise<LotZone[]> {
  return database(d1).select().from(lotZones).where(eq(lotZones.siteId, siteId)).orderBy(asc(lotZones.name));
}

/**
 * One zone of a site by exact name or, when no zone has that name, by id
 * (so a zone named "42" is still found by its name); null when there is none.
 */
export async function findZone(d1: D1Database, siteId: number, nameOrId: string): Promise<LotZone | null> {
  const id = /^\d{1,15}$/.test(nameOrId) ? Number(nameOrId) : -1;
  const row = await database(d1)
    .select()
    .from(lotZones)
    .where(and(eq(lotZones.siteId, siteId), or(eq(lotZones.name, nameOrId), eq(lotZones.id, id))))
    .orderBy(sql`${lotZones.name} = ${nameOrId} DESC`)
    .get();
  return row ?? null;
}

/**
 * Adds a lot zone and, in the same transaction, reconnects the disconnected
 * records that named it. Null when the site already has a zone by that name.
 */
export async function addZone(d1: D1Database, siteId: number, name: string): Promise<{ zone: LotZone; reconnected: number } | null> {
  const db = database(d1);
  try {
    const [inserted, reconnected] = await db.batch([
      db.insert(lotZones).values({ siteId, name, createdAt: nowSeconds() }).returning(),
      db
        .update(permits)
        .set({ lotZoneId: sql`(SELECT id FROM lot_zones WHERE site_id = ${siteId} AND name = ${name})` })
        .where(and(eq(permits.siteId, siteId), isNull(permits.lotZoneId), eq(permits.zoneName, name)))
        .returning({ id: permits.id }),
    ]);
    // Counted from RETURNING, not meta.changes: D1 counts the rows the feed's triggers write too.
    return { zone: inserted[0] as LotZone, reconnected: reconnected.length };
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/**
 * Renames a lot zone; its records stay with it, and disconnected records that
 * used the new name join it. Null when another zone of the site has that name.
 */
export async function renameZone(d1: D1Database, zone: LotZone, name: string): Promise<{ zone: LotZone; reconnected: number } | null> {
  const db = database(d1);
  try {
    const [updated, reconnected] = await db.batch([
      db.update(lotZones).set({ name }).where(eq(lotZones.id, zone.id)).returning(),
      db
        .update(permits)
        .set({ lotZoneId: zone.id })
        .where(and(eq(permits.siteId, zone.siteId), isNull(permits.lotZoneId), eq(permits.zoneName, name)))
        .returning({ id: permits.id }),
    ]);
    return { zone: updated[0] as LotZone, reconnected: reconnected.length };
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/**
 * Removes a lot zone; its records keep their zone name and become
 * disconnected. The zone's feed change log goes with it (a removed zone has
 * no feed: it answers 404).
 */
export async function removeZone(d1: D1Database, zone: LotZone): Promise<{ disconnected: number }> {
  const db = database(d1);
  const [disconnected] = await db.batch([
    db.update(permits).set({ lotZoneId: null }).where(eq(permits.lotZoneId, zone.id)).returning({ id: permits.id }),
    db.delete(permitChanges).where(eq(permitChanges.lotZoneId, zone.id)),
    db.delete(lotZones).where(eq(lotZones.id, zone.id)),
  ]);
  return { disconnected: disconnected.length };
}
