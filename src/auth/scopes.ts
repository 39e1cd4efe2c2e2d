/**
 * What a credential may do. `admin` manages its own site's zones, tokens and
 * OAuth clients through the admin API; `sessions` runs parking sessions and
 * reads the zones they need; `lookup` checks plates (the lookup and a plate's
 * rights).
 */
export const SCOPES = ["push", "update", "delete", "stats", "lookup", "sessions", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * The scopes an OAuth client may hold: those of the surfaces that take a
 * header token (an access token is a header token). The OC-TOMA scopes take
 * the token in the body, and the admin API takes API tokens only.
 */
export const CLIENT_SCOPES = ["sessions", "lookup"] as const satisfies readonly Scope[];
export type ClientScope = (typeof CLIENT_SCOPES)[number];
