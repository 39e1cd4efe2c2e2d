import { and, asc, eq, inArray, isNotNull, isNull, ne, notExists, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { SOURCES } from "../domain/permit";
import type { ZoneMetadata } from "../domain/site";
import { nowSeconds } from "../domain/time";
import { type D1Binding, database, isUniqueViolation, statement } from "./client";
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

/** What adding or changing a zone answers: the zone, or which of its keys another zone of the site already holds. */
export type ZoneResult = { ok: true; zone: LotZone; reconnected: number } | { ok: false; reason: "name-taken" | "number-taken" };

/** A zone's metadata as columns; undefined leaves a column as it is. */
export type ZoneChange = Partial<ZoneMetadata> & { name?: string };

const columns = (m: Partial<ZoneMetadata>) => ({
  number: m.number,
  rateCents: m.rateCents,
  rateCurrency: m.currency,
  maxMinutes: m.maxMinutes,
  timeZone: m.timeZone,
  capacity: m.capacity,
});

/**
 * Whether another zone of the site (not `exceptId`) is found by `key`: its
 * number is `key`, or it has no number and `key` is its name. Every zone must
 * be found by its key (number, else name) alone, so such a zone forbids the key.
 */
function keyTaken(d1: D1Database, siteId: number, key: string, exceptId: number) {
  const other = alias(lotZones, "other");
  return database(d1)
    .select({ one: sql`1` })
    .from(other)
    .where(
      and(eq(other.siteId, siteId), ne(other.id, exceptId), or(eq(other.number, key), and(isNull(other.number), eq(other.name, key)))),
    );
}

/** Why a write refused by a unique index was refused. */
function takenBy(error: unknown): "name-taken" | "number-taken" | null {
  if (!isUniqueViolation(error)) return null;
  return /number/.test(String((error as Error).message) + String((error as { cause?: unknown }).cause ?? ""))
    ? "number-taken"
    : "name-taken";
}

/**
 * The disconnected records that name the zone `name` (numbered `number`):
 * every record that used its name (as pushes match a zone, and as a zone has
 * always reconnected), and sessions and ParkMobile permits, which name a zone
 * by its key (`zoneByKey`: its number, else its name), by its number too. So
 * a zone removed and added again, or given a number later, gets back the
 * sessions and ParkMobile permits it would be matched to now. An OC-TOMA
 * push names a zone by its name alone, so a push to "4410" does not join the
 * zone numbered 4410.
 */
function namedZone(name: string, number: string | null) {
  const disconnected = isNull(permits.lotZoneId);
  if (number === null) return and(disconnected, eq(permits.zoneName, name));
  return and(
    disconnected,
    inArray(permits.zoneName, [name, number]),
    or(eq(permits.zoneName, name), isNotNull(permits.owner), eq(permits.source, SOURCES.parkmobile)),
  );
}

/**
 * Adds a lot zone and, in the same transaction, reconnects the disconnected
 * records that named it ({@link namedZone}). Refused when the site already has a zone by that
 * name or number, or one found by the new zone's key (its number, else its
 * name).
 */
export async function addZone(d1: D1Database, siteId: number, input: ZoneChange & { name: string }): Promise<ZoneResult> {
  const db = database(d1);
  const { name } = input;
  const key = input.number ?? name;
  const c = columns(input);
  try {
    const [inserted, reconnected] = await d1.batch<Record<string, unknown>>([
      // Raw: drizzle has no INSERT … SELECT … WHERE NOT EXISTS (the key check must be in the same statement as the write).
      statement(
        d1,
        sql`INSERT INTO lot_zones (site_id, name, created_at, number, rate_cents, rate_currency, max_minutes, time_zone, capacity)
            SELECT ${siteId}, ${name}, ${nowSeconds()}, ${c.number ?? null}, ${c.rateCents ?? null}, ${c.rateCurrency ?? null},
                   ${c.maxMinutes ?? null}, ${c.timeZone ?? null}, ${c.capacity ?? null}
            WHERE NOT EXISTS ${keyTaken(d1, siteId, key, -1)}
            RETURNING id`,
      ),
      statement(
        d1,
        db
          .update(permits)
          .set({ lotZoneId: sql`(SELECT id FROM lot_zones WHERE site_id = ${siteId} AND name = ${name})` })
          .where(
            and(
              eq(permits.siteId, siteId),
              namedZone(name, c.number ?? null),
              // The zone as this call added it: when the add was refused, another zone of that name may exist.
              sql`EXISTS (SELECT 1 FROM lot_zones WHERE site_id = ${siteId} AND name = ${name} AND number IS ${c.number ?? null})`,
            ),
          )
          .returning({ id: permits.id }),
      ),
    ]);
    const id = inserted?.results[0]?.id as number | undefined;
    if (id === undefined) return { ok: false, reason: input.number != null ? "number-taken" : "name-taken" };
    const zone = (await db.select().from(lotZones).where(eq(lotZones.id, id)).get()) as LotZone;
    // Counted from RETURNING, not meta.changes: D1 counts the rows the feed's triggers write too.
    return { ok: true, zone, reconnected: reconnected?.results.length ?? 0 };
  } catch (error) {
    const reason = takenBy(error);
    if (reason) return { ok: false, reason };
    throw error;
  }
}

/**
 * Changes a lot zone's name and metadata. Its records stay with it, and
 * disconnected records that name it now (a new name or number,
 * {@link namedZone}) join it. Refused as
 * {@link addZone} refuses.
 */
export async function updateZone(d1: D1Database, zone: LotZone, change: ZoneChange): Promise<ZoneResult> {
  const db = database(d1);
  const name = change.name ?? zone.name;
  const number = change.number === undefined ? zone.number : change.number;
  const key = number ?? name;
  try {
    const [updated, reconnected] = await db.batch([
      db
        .update(lotZones)
        .set({ name: change.name, ...columns(change) })
        .where(and(eq(lotZones.id, zone.id), notExists(keyTaken(d1, zone.siteId, key, zone.id))))
        .returning(),
      db
        .update(permits)
        .set({ lotZoneId: zone.id })
        .where(
          and(
            eq(permits.siteId, zone.siteId),
            namedZone(name, number),
            // Only once the change was made: a refused change leaves the name or the number as it was.
            sql`EXISTS (SELECT 1 FROM lot_zones WHERE id = ${zone.id} AND name = ${name} AND number IS ${number})`,
          ),
        )
        .returning({ id: permits.id }),
    ]);
    const row = updated[0];
    if (!row) return { ok: false, reason: number !== null ? "number-taken" : "name-taken" };
    return { ok: true, zone: row, reconnected: reconnected.length };
  } catch (error) {
    const reason = takenBy(error);
    if (reason) return { ok: false, reason };
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
