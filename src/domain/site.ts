/** What every request of a site needs: its slug, accepted currencies, grace period and lot zones (cached in KV under `site:v2:<id>`). */
export interface SiteConfig {
  id: number;
  slug: string;
  /** Accepted currencies; the first is the default. */
  currencies: string[];
  /** How long after its end a permit still answers a plate check, flagged. */
  graceMinutes: number;
  zones: { id: number; name: string }[];
}
