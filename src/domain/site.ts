/** What every request of a site needs: its slug, accepted currencies and lot zones (cached in KV under `site:v1:<id>`). */
export interface SiteConfig {
  id: number;
  slug: string;
  /** Accepted currencies; the first is the default. */
  currencies: string[];
  zones: { id: number; name: string }[];
}
