import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { Changes } from "../domain/permit";

/** Times are epoch seconds (UTC) so range queries use indexes; money is integer cents. */
const epoch = (name: string) => integer(name);

/** The currencies a new site accepts unless told otherwise (seed 001: "Supported defaults include CAD or USD"). */
export const DEFAULT_CURRENCIES = ["CAD", "USD"];

/** An OPS-COM "client": every token, zone and permit belongs to one site. */
export const sites = sqliteTable("sites", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  /** Comma list of accepted ISO 4217 codes; the first is the default. */
  currencies: text("currencies").notNull().default(DEFAULT_CURRENCIES.join(",")),
  /** The IANA time zone admins read local times in (Pay Station Status, exports). */
  timeZone: text("time_zone").notNull().default("UTC"),
  createdAt: epoch("created_at").notNull(),
});

/** API tokens: only the SHA-256 of the secret is kept. */
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id),
    tokenHash: text("token_hash").notNull().unique(),
    /** The first characters of the secret, to tell tokens apart in lists. */
    prefix: text("prefix").notNull(),
    label: text("label"),
    /** Comma list of scopes. */
    scopes: text("scopes").notNull(),
    createdAt: epoch("created_at").notNull(),
    lastUsedAt: epoch("last_used_at"),
    revokedAt: epoch("revoked_at"),
  },
  (t) => [index("api_tokens_site").on(t.siteId)],
);

export const lotZones = sqliteTable(
  "lot_zones",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id),
    name: text("name").notNull(),
    createdAt: epoch("created_at").notNull(),
    /** The zone number drivers enter or read on the sign; a zone is found by it when it has one, else by its name. */
    number: text("number"),
    /** The price of an hour of parking, in cents of `rate_currency`. */
    rateCents: integer("rate_cents"),
    rateCurrency: text("rate_currency"),
    /** The longest session the zone allows, in minutes. */
    maxMinutes: integer("max_minutes"),
    /** IANA time zone name (e.g. America/Toronto). */
    timeZone: text("time_zone"),
    /** How many vehicles the zone holds. */
    capacity: integer("capacity"),
  },
  (t) => [
    uniqueIndex("lot_zones_site_name").on(t.siteId, t.name),
    uniqueIndex("lot_zones_site_number").on(t.siteId, t.number).where(sql`number IS NOT NULL`),
  ],
);

/**
 * Permits. `lot_zone_id` is null with a non-null `zone_name` for a disconnected
 * record (a zone name that matches no lot zone of the site).
 */
export const permits = sqliteTable(
  "permits",
  {
    id: text("id").primaryKey(),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id),
    /** `temp` for pushed and imported records, `standard` for long-term permits. */
    type: text("type", { enum: ["temp", "standard"] }).notNull(),
    /** Who created it: `push` (OC-TOMA), `ParkMobile`, `admin`. */
    source: text("source").notNull(),
    plate: text("plate").notNull(),
    plateNorm: text("plate_norm").notNull(),
    zoneName: text("zone_name"),
    lotZoneId: integer("lot_zone_id").references(() => lotZones.id, { onDelete: "set null" }),
    amountCents: integer("amount_cents"),
    currency: text("currency"),
    startAt: epoch("start_at").notNull(),
    endAt: epoch("end_at").notNull(),
    permitNo: text("permit_no"),
    ticketNumber: text("ticket_number"),
    promoCode: text("promo_code"),
    /** permitNo, else TicketNumber: with plate and start, the retry key of a push without Idempotency-Key. */
    receipt: text("receipt"),
    /** The id of the record at its source (ParkMobile's parkingRightId), unique per site and source. */
    externalId: text("external_id"),
    /** When the source last changed the record (ParkMobile's modifiedDateUtc). */
    sourceModifiedAt: epoch("source_modified_at"),
    /** The plate's state, province or country, as sent (sessions). */
    plateState: text("plate_state"),
    /** The space (stall) number, as sent (sessions). */
    spaceNumber: text("space_number"),
    /**
     * Set on a session (a permit started through the sessions API): the credential that started it and alone may read,
     * stop or extend it, as `oauth:<client id>` or `token:<token id>`.
     */
    owner: text("owner"),
    /** The driver's e-mail for a session's receipt: shown only to the session's owner, never kept in the history. */
    receiptEmail: text("receipt_email"),
    /** When a session was stopped early (its end was set to that moment); null while it runs or after it expired. */
    stoppedAt: epoch("stopped_at"),
    version: integer("version").notNull().default(1),
    createdAt: epoch("created_at").notNull(),
    updatedAt: epoch("updated_at").notNull(),
    deletedAt: epoch("deleted_at"),
  },
  (t) => [
    index("permits_plate_active").on(t.siteId, t.plateNorm, t.endAt),
    // Stats: seek (site, zone, end > now) among live rows; start, type and deleted_at make it covering.
    index("permits_zone_live").on(t.siteId, t.lotZoneId, t.endAt, t.startAt, t.type, t.deletedAt).where(sql`deleted_at IS NULL`),
    // Pay Station Status: a site's temporary permits, newest first.
    index("permits_site_start").on(t.siteId, t.type, t.startAt),
    index("permits_disconnected").on(t.siteId, t.zoneName).where(sql`lot_zone_id IS NULL AND zone_name IS NOT NULL`),
    // A client's sessions, newest first (the sessions list).
    index("permits_owner").on(t.siteId, t.owner, t.startAt, t.id).where(sql`owner IS NOT NULL`),
    uniqueIndex("permits_external").on(t.siteId, t.source, t.externalId).where(sql`external_id IS NOT NULL`),
    uniqueIndex("permits_receipt_live")
      .on(t.siteId, t.receipt, t.plateNorm, t.startAt)
      .where(sql`receipt IS NOT NULL AND deleted_at IS NULL`),
  ],
);

/** OAuth 2.0 clients (client credentials): only the SHA-256 of the secret is kept. */
export const oauthClients = sqliteTable(
  "oauth_clients",
  {
    /** The public client_id (`oc_…`). */
    id: text("id").primaryKey(),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id),
    /** Who the client is (e.g. ParkOnce): the source of the sessions it starts. */
    label: text("label").notNull(),
    /** Comma list of the scopes the client may ask for. */
    scopes: text("scopes").notNull(),
    secretHash: text("secret_hash").notNull().unique(),
    /** The first characters of the secret, to tell secrets apart in lists. */
    secretPrefix: text("secret_prefix").notNull(),
    /** Moved on at every rotation: access tokens issued under an older generation stop working. */
    generation: integer("generation").notNull().default(1),
    createdAt: epoch("created_at").notNull(),
    lastUsedAt: epoch("last_used_at"),
    revokedAt: epoch("revoked_at"),
  },
  (t) => [index("oauth_clients_site").on(t.siteId)],
);

/** Access tokens issued to OAuth clients: only the SHA-256 of the token is kept. */
export const oauthTokens = sqliteTable(
  "oauth_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    clientId: text("client_id")
      .notNull()
      .references(() => oauthClients.id),
    siteId: integer("site_id").notNull(),
    /** Comma list: the scopes granted (a subset of the client's). */
    scopes: text("scopes").notNull(),
    /** The client's generation when the token was issued. */
    generation: integer("generation").notNull(),
    issuedAt: epoch("issued_at").notNull(),
    expiresAt: epoch("expires_at").notNull(),
    revokedAt: epoch("revoked_at"),
  },
  (t) => [index("oauth_tokens_client").on(t.clientId, t.expiresAt)],
);

/** Every change to a permit, one row per version. */
export const permitEvents = sqliteTable(
  "permit_events",
  {
    permitId: text("permit_id")
      .notNull()
      .references(() => permits.id),
    version: integer("version").notNull(),
    action: text("action", { enum: ["create", "update", "delete"] }).notNull(),
    /** JSON: `{ field: [before, after] }`; a create holds `{ field: [null, value] }`. */
    changes: text("changes", { mode: "json" }).$type<Changes>().notNull(),
    /** `token:<id>`, `oauth:<client id>`, `admin`, or `job:<name>`. */
    actor: text("actor").notNull(),
    at: epoch("at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.permitId, t.version] })],
);

/** Idempotency-Key records of pushes, per site; kept 24 hours. */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    siteId: integer("site_id").notNull(),
    key: text("key").notNull(),
    /** SHA-256 of the canonical request, to tell a retry from a different request under the same key. */
    requestHash: text("request_hash").notNull(),
    permitId: text("permit_id").notNull(),
    createdAt: epoch("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.key] })],
);

/** A site's ParkMobile credentials, each sealed with AES-GCM under the SETTINGS_KEY secret. */
export const parkmobileSettings = sqliteTable("parkmobile_settings", {
  siteId: integer("site_id")
    .primaryKey()
    .references(() => sites.id),
  baseUrl: text("base_url").notNull(),
  username: text("username"),
  password: text("password"),
  apiKey: text("api_key"),
  updatedAt: epoch("updated_at").notNull(),
});

/** Per-site switches of the system tasks (off until enabled). */
export const tasks = sqliteTable(
  "tasks",
  {
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id),
    task: text("task").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    updatedAt: epoch("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.task] })],
);

/** What a run of the ParkMobile import counted (`task_runs.counts`, JSON). */
export interface RunCounts {
  zonesMatched: number;
  zonesSkipped: number;
  /** ParkMobile signage zone codes with no lot zone of that name. */
  skippedZones: string[];
  rightsFetched: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

/** A parking right a run rejected, and why (`task_runs.rejections`, JSON). */
export interface Rejection {
  parkingRightId: string | number | null;
  reason: string;
}

/** The run log of the system tasks. One unfinished run per site and task, enforced by a unique index. */
export const taskRuns = sqliteTable(
  "task_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id),
    task: text("task").notNull(),
    /** The run's number among its site's runs of the task, from 1: what admins call it (ids are global, so they skip). */
    number: integer("number").notNull().default(0),
    trigger: text("trigger", { enum: ["cron", "manual"] }).notNull(),
    startedAt: epoch("started_at").notNull(),
    /** Moved forward as the run progresses; a run silent for 10 minutes is taken as dead. */
    heartbeatAt: epoch("heartbeat_at").notNull(),
    finishedAt: epoch("finished_at"),
    outcome: text("outcome", { enum: ["running", "succeeded", "partial", "failed"] }).notNull(),
    message: text("message"),
    counts: text("counts", { mode: "json" }).$type<RunCounts>().notNull(),
    /** The first rejected rights. */
    rejections: text("rejections", { mode: "json" }).$type<Rejection[]>().notNull(),
  },
  (t) => [
    index("task_runs_site_task").on(t.siteId, t.task, t.id),
    uniqueIndex("task_runs_number").on(t.siteId, t.task, t.number),
    uniqueIndex("task_runs_one_running").on(t.siteId, t.task).where(sql`finished_at IS NULL`),
  ],
);

/** A console message for the next page: an outcome, and perhaps a secret to show once (a token just issued). */
export interface Flash {
  kind: "ok" | "error";
  text: string;
  secret?: string;
  /** What a refused form held, to fill it in again. */
  values?: Record<string, string>;
}

/** Admin console sign-ins. The cookie holds a random id; only its SHA-256 is kept, with the form token and a one-time message. */
export const consoleSessions = sqliteTable("console_sessions", {
  idHash: text("id_hash").primaryKey(),
  /** The anti-forgery token every console form must send back. */
  csrf: text("csrf").notNull(),
  expiresAt: epoch("expires_at").notNull(),
  /** JSON: a message shown once on the next page (a secret in it sealed). */
  flash: text("flash", { mode: "json" }).$type<Flash>(),
});
