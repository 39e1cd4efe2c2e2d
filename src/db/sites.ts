import { asc, eq } from "drizzle-orm";
import { nowSeconds } from "../domain/time";
import { AppError, ErrorCode } from "../errors";
import { type Database, isUniqueViolation } from "./client";
import { DEFAULT_CURRENCIES, lotZones, sites } from "./schema";

export type Site = typeof sites.$inferSelect;

/** What every request of a site needs, cached in KV under `site:v1:<id>`. */
export interface SiteConfig {
  id: number;
  slug: string;
  /** Accepted currencies; the first is the default. */
  currencies: string[];
  zones: { id: number; name: string }[];
}

/** Creates a site; a taken slug is 9022. */
export async function createSite(db: Database, input: { slug: string; name: string; currencies?: string[] }): Promise<Site> {
  try {
    const [row] = await db
      .insert(sites)
      .values({
        slug: input.slug,
        name: input.name,
        currencies: (input.currencies ?? DEFAULT_CURRENCIES).join(","),
        createdAt: nowSeconds(),
      })
      .returning();
    return row as Site;
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError(ErrorCode.AlreadyExists, `Site ${input.slug} already exists.`, { field: "slug" });
    throw error;
  }
}

/** All sites, by slug. */
export function listSites(db: Database): Promise<Site[]> {
  return db.select().from(sites).orderBy(asc(sites.slug));
}

/** One site by slug; 9009 when there is none. */
export async function getSite(db: Database, slug: string): Promise<Site> {
  const row = await db.select().from(sites).where(eq(sites.slug, slug)).get();
  if (!row) throw new AppError(ErrorCode.NotFound, `Site ${slug} does not exist.`, { field: "site" });
  return row;
}

/** Changes a site's name or currencies. */
export async function updateSite(db: Database, id: number, input: { name?: string; currencies?: string[] }): Promise<Site> {
  const [row] = await db
    .update(sites)
    .set({ name: input.name, currencies: input.currencies?.join(",") })
    .where(eq(sites.id, id))
    .returning();
  return row as Site;
}

/** Loads the cached view of a site from D1, or null if it does not exist. */
export async function loadSiteConfig(db: Database, siteId: number): Promise<SiteConfig | null> {
  const [site, zones] = await db.batch([
    db.select({ slug: sites.slug, currencies: sites.currencies }).from(sites).where(eq(sites.id, siteId)),
    db.select({ id: lotZones.id, name: lotZones.name }).from(lotZones).where(eq(lotZones.siteId, siteId)).orderBy(asc(lotZones.name)),
  ]);
  const row = site[0];
  if (!row) return null;
  return { id: siteId, slug: row.slug, currencies: row.currencies.split(","), zones };
}
