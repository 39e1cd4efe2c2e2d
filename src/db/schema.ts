import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { Changes } from "../domain/permit";
import { foldedPlateSql } from "../domain/plate";
import { RATE_TIERS } from "../domain/rate-limits";

/** Times are epoch seconds (UTC) so range queries use indexes; money is integer cents. */
const epoch = (name: string) => integer(name);

/** The currencies a new site accepts unless told otherwise (seed 001: "Supported defaults include CAD or USD"). */
export const DEFAULT_CURRENCIES = ["CAD", "USD"];

/** How long after its end a permit still answers a plate check, flagged (Parkkihubi: 15 minutes). */
export const DEFAULT_GRACE_MINUTES = 15;
/** Plates are kept this many days after a permit ends: long enough for a ticket's appeal. */
export const DEFAULT_ANONYMIZE_AFTER_DAYS = 90;
/** Records stay in D1 this many months after they end: a year, plus a month for year-over-year reports. */
export const DEFAULT_ARCHIVE_AFTER_MONTHS = 13;

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
  /** Plate checks also return permits that ended less than this long ago, flagged (Parkkihubi's 15 minutes). */
  graceMinutes: integer("grace_minutes").notNull().default(DEFAULT_GRACE_MINUTES),
  /** Retention: plates of permits ended more than this many days ago are anonymized. */
  anonymizeAfterDays: integer("anonymize_after_days").notNull().default(DEFAULT_ANONYMIZE_AFTER_DAYS),
  /** Retention: permits ended more than this many months ago are archived to R2, then deleted from D1. */
  archiveAfterMonths: integer("archive_after_months").notNull().default(DEFAULT_ARCHIVE_AFTER_MONTHS),
  /**
   * Counts the changes to stored ParkMobile permits of the site, whoever makes them (an update or delete through the
   * API, console or CLI, retention, the import's own updates: a right listed in two zones changes a record the other
   * zone vouches for), by the triggers `permits_parkmobile_update` and `permits_parkmobile_delete` (migration 0013).
   * A zone's import skips its comparison only while this is what it was when the zone last compared equal
   * (`zone_imports.compared_edits`), so such a change is always compared, and a local edit undone, by the next run,
   * as a full comparison would.
   */
  parkmobileEdits: integer("parkmobile_edits").notNull().default(0),
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
    /** Its rate-limit tier (`RATE_LIMITS`); only ADMIN_TOKEN changes it. */
    rateTier: text("rate_tier", { enum: RATE_TIERS }).notNull().default("standard"),
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
    /**
     * The normalized plate with the characters cameras confuse folded (O/Q to 0, I/L to 1, …; see
     * `CONFUSABLES`): generated by SQLite from `plate_norm`, so every write path fills it and none can forget.
     */
    plateFolded: text("plate_folded").generatedAlwaysAs(sql.raw(foldedPlateSql("plate_norm")), { mode: "virtual" }),
    /** The plate's state, province or jurisdiction when the source sent one (a session's plateState, ParkMobile's lpnState); null: unknown. */
    plateState: text("plate_state"),
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
    /** When retention removed the plate (the record and its amounts stay). */
    anonymizedAt: epoch("anonymized_at"),
  },
  (t) => [
    index("permits_plate_active").on(t.siteId, t.plateNorm, t.endAt),
    // Plate checks that forgive misreads: the same seek on the folded plate.
    index("permits_plate_folded").on(t.siteId, t.plateFolded, t.endAt),
    // Retention: a site's records by end, oldest first (archiving whole months).
    index("permits_site_end").on(t.siteId, t.endAt),
    // Retention: the records whose plate is still there, by end; a row leaves it when anonymized.
    index("permits_to_anonymize").on(t.siteId, t.endAt).where(sql`anonymized_at IS NULL`),
    // Stats: seek (site, zone, end > now) among live rows; start, type and deleted_at make it covering.
    index("permits_zone_live").on(t.siteId, t.lotZoneId, t.endAt, t.startAt, t.type, t.deletedAt).where(sql`deleted_at IS NULL`),
    // Pay Station Status: a site's temporary permits, newest first.
    index("permits_site_start").on(t.siteId, t.type, t.startAt),
    index("permits_disconnected").on(t.siteId, t.zoneName).where(sql`lot_zone_id IS NULL AND zone_name IS NOT NULL`),
    // A client's sessions, newest first (the sessions list).
    index("permits_owner").on(t.siteId, t.owner, t.startAt, t.id).where(sql`owner IS NOT NULL`),
    uniqueIndex("permits_external").on(t.siteId, t.source, t.externalId).where(sql`external_id IS NOT NULL`),
    // A push retried without its key is the same receipt, plate and start of the same type: a standard permit with
    // the same permit number is another permit, never the record a push repeats.
    uniqueIndex("permits_receipt_live")
      .on(t.siteId, t.type, t.receipt, t.plateNorm, t.startAt)
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
    /** Its rate-limit tier (`RATE_LIMITS`), shared by all its access tokens; only ADMIN_TOKEN changes it. */
    rateTier: text("rate_tier", { enum: RATE_TIERS }).notNull().default("standard"),
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
    /**
     * The permit's site, so a site's history is read by time without the permits table (the transactions report).
     * Never null: SQLite cannot add a NOT NULL column to a table that has rows, so the trigger `permit_events_site`
     * (migration 0009) refuses an event without it.
     */
    siteId: integer("site_id"),
    version: integer("version").notNull(),
    action: text("action", { enum: ["create", "update", "delete"] }).notNull(),
    /** JSON: `{ field: [before, after] }`; a create holds `{ field: [null, value] }`. */
    changes: text("changes", { mode: "json" }).$type<Changes>().notNull(),
    /** `token:<id>`, `oauth:<client id>`, `admin`, or `job:<name>`. */
    actor: text("actor").notNull(),
    at: epoch("at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.permitId, t.version] }),
    // The transactions report: a site's events by time, read in keyset order (at, permit, version).
    index("permit_events_site_at").on(t.siteId, t.at, t.permitId, t.version),
  ],
);

/**
 * The enforcement feed's change log: one row per change of a permit that a zone's list could show,
 * for the zone it was in (and, when it moved, the zone it left), in commit order. Written by the
 * triggers `permits_feed_insert` and `permits_feed_update` (in the migration), so every write path
 * feeds it; a delta reads the rows of one zone after a continuation token's `seq`. Kept 25 hours.
 */
export const permitChanges = sqliteTable(
  "permit_changes",
  {
    /** AUTOINCREMENT: never reused, so a sequence number once handed out always means "after this". */
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    lotZoneId: integer("lot_zone_id").notNull(),
    permitId: text("permit_id").notNull(),
    at: epoch("at").notNull(),
  },
  (t) => [index("permit_changes_zone").on(t.lotZoneId, t.seq, t.permitId)],
);

/** When a lot zone last imported from ParkMobile successfully: the feed answers 503 when that is too long ago. */
export const zoneImports = sqliteTable("zone_imports", {
  lotZoneId: integer("lot_zone_id")
    .primaryKey()
    .references(() => lotZones.id, { onDelete: "cascade" }),
  lastSuccessAt: epoch("last_success_at").notNull(),
  /**
   * SHA-256 of what ParkMobile last sent for the zone when every record of it was found stored as sent (nothing to
   * write), and the site's `parkmobile_edits` read before that comparison. A run that is sent the same again, with
   * the count unchanged, skips the comparison: nothing can differ. Null once a run wrote to the zone.
   */
  comparedDigest: text("compared_digest"),
  comparedEdits: integer("compared_edits"),
});

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
export interface ImportCounts {
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

/** What a retention run did (`task_runs.counts`, JSON). */
export interface RetentionCounts {
  /** Permits whose plate was removed. */
  anonymized: number;
  /** The R2 objects written (one per month), by key. */
  archives: string[];
  /** Permits and history events written to those objects by this run. */
  archivedPermits: number;
  archivedEvents: number;
  /** Permits and events deleted from D1 once archived. */
  deletedPermits: number;
  deletedEvents: number;
  /** Feed change-log rows and push Idempotency-Key records past their 25 hours. */
  feedChangesPruned: number;
  idempotencyKeysPruned: number;
  /** Task run logs (which may quote a rejected plate) older than the anonymization horizon. */
  taskRunsPruned: number;
  /** Webhook events (their bodies carry plates) older than the anonymization horizon, with their deliveries and attempts. */
  webhookEventsPruned: number;
}

/** What a run counted, by task. */
export type RunCounts = ImportCounts | RetentionCounts;

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

/**
 * A site's webhook endpoints: where its events are delivered, signed as Standard Webhooks says with the endpoint's
 * own secret (`whsec_…`), sealed with AES-GCM under SETTINGS_KEY because signing needs it back. After a rotation
 * the previous secret signs beside the new one for a day, so a receiver can switch without losing a message.
 */
export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    /** `wh_` and 16 random characters. */
    id: text("id").primaryKey(),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id),
    url: text("url").notNull(),
    description: text("description"),
    /** Comma list of the event types it receives. */
    events: text("events").notNull(),
    /** The signing secret, sealed (`v1.<iv>.<ciphertext>`, bound to `webhook:<id>`). */
    secret: text("secret").notNull(),
    /** The secret's first characters, to tell secrets apart in lists. */
    secretPrefix: text("secret_prefix").notNull(),
    /** The secret before the last rotation, sealed; it signs beside the new one until `previous_secret_expires_at`. */
    previousSecret: text("previous_secret"),
    previousSecretExpiresAt: epoch("previous_secret_expires_at"),
    createdAt: epoch("created_at").notNull(),
    updatedAt: epoch("updated_at").notNull(),
    /** Set while the endpoint receives nothing: by an admin (`manual`), or by the receiver answering 410 Gone (`gone`). */
    disabledAt: epoch("disabled_at"),
    disabledReason: text("disabled_reason", { enum: ["manual", "gone"] }),
  },
  (t) => [index("webhook_endpoints_site").on(t.siteId)],
);

/** An event of a site that at least one endpoint wanted: its type and the exact body every delivery of it sends. */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    /** `msg_…`: the `webhook-id` header, the same on every attempt and every endpoint. */
    id: text("id").primaryKey(),
    siteId: integer("site_id")
      .notNull()
      .references(() => sites.id),
    type: text("type").notNull(),
    /** The JSON body, byte for byte what is signed and sent. */
    body: text("body").notNull(),
    createdAt: epoch("created_at").notNull(),
    /**
     * Where the plate's N days before retention deletes it start: the end of the permit it tells of (as the event
     * left it) when that came first, else the event's time. So an event is never kept longer than its permit's plate.
     * Null only in rows written before it existed, which migration 0011 filled.
     */
    forgetFrom: epoch("forget_from"),
  },
  (t) => [index("webhook_events_site_forget").on(t.siteId, t.forgetFrom)],
);

/**
 * Events the request that caused them could not put on the queue (Queues refused or failed), and events whose
 * fan-out the queue gave up on: held here until the webhook sweep (every 3 minutes) sends them again.
 */
export const webhookOutbox = sqliteTable(
  "webhook_outbox",
  {
    /** The event's id (`msg_…`): holding an event twice holds it once. */
    id: text("id").primaryKey(),
    siteId: integer("site_id").notNull(),
    type: text("type").notNull(),
    body: text("body").notNull(),
    at: epoch("at").notNull(),
    forgetFrom: epoch("forget_from").notNull(),
    heldAt: epoch("held_at").notNull(),
  },
  (t) => [index("webhook_outbox_held").on(t.heldAt)],
);

/**
 * One event to one endpoint. `round` counts the times it was sent on its way (1, then one more for each redelivery by
 * hand or restart by the sweep); `round_attempts` the attempts of the current round, which pick the next delay; a lease marks the attempt
 * under way, so two copies of one queue message never post at once.
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    /** `dl_` and 16 random characters. */
    id: text("id").primaryKey(),
    eventId: text("event_id")
      .notNull()
      .references(() => webhookEvents.id),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id),
    siteId: integer("site_id").notNull(),
    eventType: text("event_type").notNull(),
    state: text("state", { enum: ["pending", "delivered", "failed", "skipped"] }).notNull(),
    round: integer("round").notNull().default(1),
    roundAttempts: integer("round_attempts").notNull().default(0),
    /** Attempts of every round: the last attempt's number. */
    attempts: integer("attempts").notNull().default(0),
    leaseUntil: epoch("lease_until"),
    nextAttemptAt: epoch("next_attempt_at"),
    lastAttemptAt: epoch("last_attempt_at"),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    createdAt: epoch("created_at").notNull(),
    /** When it was delivered, failed for good, or skipped. */
    finishedAt: epoch("finished_at"),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_endpoint_event").on(t.endpointId, t.eventId),
    // An endpoint's deliveries, newest first (the delivery log).
    index("webhook_deliveries_endpoint_created").on(t.endpointId, t.createdAt, t.id),
    index("webhook_deliveries_event").on(t.eventId),
    // The deliveries still to be made, for the sweep that finds those whose queue message was lost: few at any time.
    index("webhook_deliveries_pending").on(t.createdAt).where(sql`${t.state} = 'pending'`),
  ],
);

/** Every attempt of a delivery: when, the answer's status (null when none came), how long it took, what went wrong. */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id),
    /** 1, 2, … across rounds. */
    number: integer("number").notNull(),
    round: integer("round").notNull(),
    at: epoch("at").notNull(),
    status: integer("status"),
    durationMs: integer("duration_ms").notNull(),
    /** Why it failed when the status does not say: a timeout, a refused address, a redirect not followed, no connection. */
    error: text("error"),
    /** The first characters of the receiver's answer. */
    response: text("response"),
  },
  (t) => [primaryKey({ columns: [t.deliveryId, t.number] })],
);
