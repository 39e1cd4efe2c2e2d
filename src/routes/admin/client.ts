/**
 * The one client of the admin API, typed from the API's own schemas: the
 * console calls it in-process, the CLI and the sandbox over HTTP. It holds
 * no rule of its own; each method is one request.
 *
 * Imported by the Node scripts as TypeScript (type stripping): it must
 * import nothing at run time, only types.
 */
import type { z } from "zod";
import type { errorBody } from "../../errors";
import type { ClientCreate, ClientList, ClientView, NewClientView } from "./clients";
import type { ConnectionCheck, ParkMobileInput, ParkMobileSettings } from "./parkmobile";
import type { PermitEnded, PermitQuery, PermitSearchPage, PermitsCreated, PermitView, StandardPermits } from "./permits";
import type { ReportQuery, TransactionReport } from "./reports";
import type { ArchiveList, RetentionInput, RetentionView } from "./retention";
import type { SiteCreate, SiteList, SiteUpdate, SiteView } from "./sites";
import type { ImportCountsView, RetentionCountsView, RunList, RunView, TaskList, TaskView } from "./tasks";
import type { NewTokenView, TierChange, TokenCreate, TokenList, TokenView } from "./tokens";
import type {
  DeliveryDetail,
  DeliveryList,
  DeliveryQuery,
  DeliveryView,
  NewWebhookView,
  WebhookCreate,
  WebhookDeleted,
  WebhookList,
  WebhookUpdate,
  WebhookView,
} from "./webhooks";
import type { DisconnectedZones, ZoneChange, ZoneInput, ZoneList, ZoneRemoval, ZoneUpdate } from "./zones";

/** An error answer of the admin API: its code, message and field. */
export type AdminError = z.infer<ReturnType<typeof errorBody>>;

/** An answer: the data, or the error with its HTTP status. */
export type Answer<T> = { ok: true; data: T } | { ok: false; status: number; error: AdminError };

/**
 * How a request reaches the admin API (`path` is under /api/admin/v1), with
 * `headers` beside the transport's own (`accept`, for an answer in CSV). It
 * resolves to the HTTP status and the answer: parsed when it is JSON, its
 * text otherwise (a CSV export); a failure to reach the API rejects.
 */
export type Send = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{ status: number; body: unknown }>;

/** The admin API, one method per operation. */
export type AdminClient = ReturnType<typeof adminClient>;

/** A client over `send`. */
export function adminClient(send: Send) {
  async function call<S extends z.core.$ZodType>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Answer<z.infer<S>>> {
    const answer = await send(method, path, body, headers);
    const data = answer.body as { status?: unknown };
    if (answer.status >= 400 || data?.status === "error") return { ok: false, status: answer.status, error: answer.body as AdminError };
    return { ok: true, data: answer.body as z.infer<S> };
  }
  /** One path segment: names with spaces or slashes stay one segment. */
  const seg = encodeURIComponent;
  const query = (values: Record<string, string | number | undefined>) => {
    const defined = Object.entries(values).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]]));
    return defined.length > 0 ? `?${new URLSearchParams(defined)}` : "";
  };
  const site = (slug: string) => `/sites/${seg(slug)}`;
  return {
    listSites: () => call<typeof SiteList>("GET", "/sites"),
    createSite: (input: z.input<typeof SiteCreate>) => call<typeof SiteView>("POST", "/sites", input),
    getSite: (slug: string) => call<typeof SiteView>("GET", site(slug)),
    updateSite: (slug: string, input: z.input<typeof SiteUpdate>) => call<typeof SiteView>("PATCH", site(slug), input),

    listZones: (slug: string) => call<typeof ZoneList>("GET", `${site(slug)}/zones`),
    addZone: (slug: string, input: z.input<typeof ZoneInput>) => call<typeof ZoneChange>("POST", `${site(slug)}/zones`, input),
    updateZone: (slug: string, zone: string, input: z.input<typeof ZoneUpdate>) =>
      call<typeof ZoneChange>("PATCH", `${site(slug)}/zones/${seg(zone)}`, input),
    removeZone: (slug: string, zone: string) => call<typeof ZoneRemoval>("DELETE", `${site(slug)}/zones/${seg(zone)}`),
    listDisconnected: (slug: string) => call<typeof DisconnectedZones>("GET", `${site(slug)}/disconnected`),

    listTokens: (slug: string) => call<typeof TokenList>("GET", `${site(slug)}/tokens`),
    createToken: (slug: string, input: z.input<typeof TokenCreate>) => call<typeof NewTokenView>("POST", `${site(slug)}/tokens`, input),
    revokeToken: (id: string) => call<typeof TokenView>("DELETE", `/tokens/${seg(id)}`),
    rotateToken: (id: string) => call<typeof NewTokenView>("POST", `/tokens/${seg(id)}/rotate`),
    setTokenTier: (id: string, tier: z.input<typeof TierChange>["tier"]) => call<typeof TokenView>("PATCH", `/tokens/${seg(id)}`, { tier }),

    listClients: (slug: string) => call<typeof ClientList>("GET", `${site(slug)}/clients`),
    createClient: (slug: string, input: z.input<typeof ClientCreate>) => call<typeof NewClientView>("POST", `${site(slug)}/clients`, input),
    revokeClient: (id: string) => call<typeof ClientView>("DELETE", `/clients/${seg(id)}`),
    rotateClient: (id: string) => call<typeof NewClientView>("POST", `/clients/${seg(id)}/rotate`),
    setClientTier: (id: string, tier: z.input<typeof TierChange>["tier"]) =>
      call<typeof ClientView>("PATCH", `/clients/${seg(id)}`, { tier }),

    createStandardPermits: (slug: string, input: z.input<typeof StandardPermits>) =>
      call<typeof PermitsCreated>("POST", `${site(slug)}/permits`, input),
    getPermit: (reference: string) => call<typeof PermitView>("GET", `/permits/${seg(reference)}`),
    searchPermits: (slug: string, q: Partial<Record<keyof z.input<typeof PermitQuery>, string | number>>) =>
      call<typeof PermitSearchPage>("GET", `${site(slug)}/permits${query(q)}`),
    /** The CSV text of every permit a search matches. */
    exportPermits: (slug: string, q: Partial<Record<keyof z.input<typeof PermitQuery>, string | number>>) =>
      call<z.ZodString>("GET", `${site(slug)}/permits/export${query({ ...q, page: undefined })}`),
    endPermit: (slug: string, reference: string) => call<typeof PermitEnded>("DELETE", `${site(slug)}/permits/${seg(reference)}`),

    getParkMobile: (slug: string) => call<typeof ParkMobileSettings>("GET", `${site(slug)}/parkmobile`),
    testParkMobile: (slug: string) => call<typeof ConnectionCheck>("POST", `${site(slug)}/parkmobile/test`),
    setParkMobile: (slug: string, input: z.input<typeof ParkMobileInput>) =>
      call<typeof ParkMobileSettings>("PUT", `${site(slug)}/parkmobile`, input),

    listTasks: (slug: string) => call<typeof TaskList>("GET", `${site(slug)}/tasks`),
    setTaskEnabled: (slug: string, task: string, enabled: boolean) =>
      call<typeof TaskView>("PATCH", `${site(slug)}/tasks/${seg(task)}`, { enabled }),
    runTask: (slug: string, task: string) => call<typeof RunView>("POST", `${site(slug)}/tasks/${seg(task)}/run`),
    listRuns: (slug: string, task: string, limit?: number | string) =>
      call<typeof RunList>("GET", `${site(slug)}/tasks/${seg(task)}/runs${query({ limit })}`),

    getRetention: (slug: string) => call<typeof RetentionView>("GET", `${site(slug)}/retention`),
    setRetention: (slug: string, input: z.input<typeof RetentionInput>) =>
      call<typeof RetentionView>("PUT", `${site(slug)}/retention`, input),
    listArchives: (slug: string) => call<typeof ArchiveList>("GET", `${site(slug)}/archives`),

    /** The transactions report: its CSV text, or the report as JSON. */
    transactionsCsv: (slug: string, q: Partial<Record<keyof z.input<typeof ReportQuery>, string>>) =>
      call<z.ZodString>("GET", `${site(slug)}/reports/transactions${query(q)}`, undefined, { accept: "text/csv" }),
    transactionsJson: (slug: string, q: Partial<Record<keyof z.input<typeof ReportQuery>, string>>) =>
      call<typeof TransactionReport>("GET", `${site(slug)}/reports/transactions${query(q)}`, undefined, { accept: "application/json" }),
    listWebhooks: (slug: string) => call<typeof WebhookList>("GET", `${site(slug)}/webhooks`),
    createWebhook: (slug: string, input: z.input<typeof WebhookCreate>) =>
      call<typeof NewWebhookView>("POST", `${site(slug)}/webhooks`, input),
    getWebhook: (id: string) => call<typeof WebhookView>("GET", `/webhooks/${seg(id)}`),
    updateWebhook: (id: string, input: z.input<typeof WebhookUpdate>) => call<typeof WebhookView>("PATCH", `/webhooks/${seg(id)}`, input),
    rotateWebhook: (id: string) => call<typeof NewWebhookView>("POST", `/webhooks/${seg(id)}/rotate`),
    deleteWebhook: (id: string) => call<typeof WebhookDeleted>("DELETE", `/webhooks/${seg(id)}`),
    listDeliveries: (id: string, q: Partial<Record<keyof z.input<typeof DeliveryQuery>, string | number>> = {}) =>
      call<typeof DeliveryList>("GET", `/webhooks/${seg(id)}/deliveries${query(q)}`),
    getDelivery: (id: string, delivery: string) => call<typeof DeliveryDetail>("GET", `/webhooks/${seg(id)}/deliveries/${seg(delivery)}`),
    redeliver: (id: string, delivery: string) =>
      call<typeof DeliveryView>("POST", `/webhooks/${seg(id)}/deliveries/${seg(delivery)}/redeliver`),
  };
}

/** One line for an error answer: the message and its code. */
export function describeError(error: AdminError): string {
  return `${error.ErrorMessage} (error ${error.ErrorCode})`;
}

/** What a run counted, in a few words: the import's zones and rights, or what retention did. */
export function describeCounts(run: z.infer<typeof RunView>): string {
  if (run.task === "retention") {
    const c = run.counts as z.infer<typeof RetentionCountsView>;
    return [
      `${c.anonymized} plate(s) anonymized;`,
      `${c.archivedPermits} permit(s) with ${c.archivedEvents} event(s) archived in ${c.archives.length} object(s)${c.archives.length > 0 ? ` (${c.archives.join(", ")})` : ""},`,
      `${c.deletedPermits} permit(s) and ${c.deletedEvents} event(s) deleted;`,
      `pruned ${c.feedChangesPruned} feed change(s), ${c.idempotencyKeysPruned} idempotency key(s), ${c.taskRunsPruned} run log(s), ${c.webhookEventsPruned ?? 0} webhook event(s)`,
    ].join(" ");
  }
  const c = run.counts as z.infer<typeof ImportCountsView>;
  const skipped = c.skippedZones.length > 0 ? ` (no lot zone: ${c.skippedZones.join(", ")})` : "";
  return [
    `zones ${c.zonesMatched} matched, ${c.zonesSkipped} skipped${skipped};`,
    `rights ${c.rightsFetched} fetched, ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.rejected} rejected`,
  ].join(" ");
}

/** A task run in one line: outcome, counts, message. The console, the CLI and the sandbox all say it so. */
export function describeRun(run: z.infer<typeof RunView>): string {
  return `Run ${run.number} of ${run.task} (${run.trigger}) ${run.outcome}: ${describeCounts(run)}${run.message ? `. ${run.message}` : "."}`;
}
