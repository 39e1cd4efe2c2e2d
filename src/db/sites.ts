import { asc, eq } from "drizzle-orm";
import type { SiteConfig } from "../domain/site";
import { nowSeconds } from "../domain/time";
import { database, isUniqueViolation } from "./client";
import { DEFAULT_CURRENCIES, lotZones, sites } from "./schema";
import { subscriptions } from "./webhooks";

export type Site = typeof sites.$inferSelect;

/** Creates a site; null when the slug is taken. */
export async function createSite(
  d1: D1Database,
  input: { slug: string; name: string; currencies?: string[]; timeZone?: string },
): Promise<Site | null> {
  try {
    return await database(d1)
      .insert(sites)
      .values({
        slug: input.slug,
        name: input.name,
        currencies: (input.currencies ?? DEFAULT_CURRENCIES).join(","),
        timeZone: input.timeZone,
        createdAt: nowSeconds(),
      })
      .returning()
      .get();
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/** All sites, by slug. */
export function listSites(d1: D1Database): Promise<Site[]> {
  return database(d1).select().from(sites).orderBy(asc(sites.slug));
}

/** One site by id, or null. */
export async function findSiteById(d1: D1Database, id: number): Promise<Site | null> {
  return (await database(d1).select().from(sites).where(eq(sites.id, id)).get()) ?? null;
}

/** One site by slug, or null. */
export async function findSite(d1: D1Database, slug: string): Promise<Site | null> {
  return (await database(d1).select().from(sites).where(eq(sites.slug, slug)).get()) ?? null;
}

/** A site's settings an admin may change. */
export interface SiteChange {
  name?: string;
  currencies?: string[];
  timeZone?: string;
  graceMinutes?: number;
  anonymizeAfterDays?: number;
  archiveAfterMonths?: number;
}

/** Changes a site's name, currencies, time zone, grace period or retention policy. */
export async function updateSite(d1: D1Database, id: number, input: SiteChange): Promise<Site> {
  const row = await database(d1)
    .update(sites)
    .set({
      name: input.name,
      currencies: input.currencies?.join(","),
      timeZone: input.timeZone,
      graceMinutes: input.graceMinutes,
      anonymizeAfterDays: input.anonymizeAfterDays,
      archiveAfterMonths: input.archiveAfterMonths,
    })
    .where(eq(sites.id, id))
    .returning()
    .get();
  return row as Site;
}

/** Loads the cached view of a site from D1, or null if it does not exist. */
export async function loadSiteConfig(d1: D1Database, siteId: number): Promise<SiteConfig | null> {
  const db = database(d1);
  const [site, zones, endpoints] = await db.batch([
    db.select({ slug: sites.slug, currencies: sites.currencies, graceMinutes: sites.graceMinutes }).from(sites).where(eq(sites.id, siteId)),
    db
      .select({
        id: lotZones.id,
        name: lotZones.name,
        number: lotZones.number,
        rateCents: lotZones.rateCents,
        currency: lotZones.rateCurrency,
        maxMinutes: lotZones.maxMinutes,
        timeZone: lotZones.timeZone,
        capacity: lotZones.capacity,
      })
      .from(lotZones)
      .where(eq(lotZones.siteId, siteId))
      .orderBy(asc(lotZones.name)),
    subscriptions.query(d1, siteId),
  ]);
  const row = site[0];
  if (!row) return null;
  return {
    id: siteId,
    slug: row.slug,
    currencies: row.currencies.split(","),
    graceMinutes: row.graceMinutes,
    zones,
    webhookEvents: subscriptions.types(endpoints),
  };
}
