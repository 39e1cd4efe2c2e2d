/** What a token may do. `admin` manages its own site's zones and tokens through the admin API. */
export const SCOPES = ["push", "update", "delete", "stats", "lookup", "admin"] as const;
export type Scope = (typeof SCOPES)[number];
