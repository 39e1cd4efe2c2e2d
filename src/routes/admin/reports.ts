import { z } from "@hono/zod-openapi";
import { everyTransaction } from "../../db/permits/report";
import { REPORT_COLUMNS, REPORT_MAX_DAYS, REPORT_OPERATIONS, reportRange, type TransactionRow, transactionRows } from "../../domain/report";
import { acceptedCurrency, ZONE_NAME_MAX } from "../../domain/site";
import { formatWireTime } from "../../domain/time";
import { negotiate } from "../../http";
import { csvStream, mapBatches, textStream } from "../csv";
import { sourceFilter, zoneFilter } from "./permits";
import { type AdminApp, adminRoute, SiteParam, siteOf } from "./route";

const bound = (description: string, example: string) => z.string().max(30).openapi({ description, example });

/** The report's query: a required range, and optional filters. */
export const ReportQuery = z.object({
  from: bound(
    "The range's start: a date (Y-m-d), from the start of that day in the site's time zone, or a UTC time (Y-m-d\\TH:i:s).",
    "2026-03-01",
  ),
  to: bound(
    `The range's end: a date (Y-m-d), to the end of that day in the site's time zone (included), or a UTC time (Y-m-d\\TH:i:s, excluded). At most ${REPORT_MAX_DAYS} days after from.`,
    "2026-03-31",
  ),
  zone: z
    .string()
    .max(ZONE_NAME_MAX)
    .optional()
    .openapi({ description: "A lot zone (its name, or its number), or a zone name disconnected records used." }),
  source: z
    .string()
    .max(100)
    .optional()
    .openapi({ description: "Who created the permits: push, ParkMobile, admin, or a session's client." }),
  currency: z.string().max(10).optional().openapi({ description: "One of the site's currencies: only the rows in it." }),
});

const TransactionRowSchema = z
  .object({
    time_utc: z.string().openapi({ description: "When, UTC Y-m-d\\TH:i:s.", example: "2026-03-02T14:05:00" }),
    time_local: z.string().openapi({ description: "The same moment on the clock of `time_zone`.", example: "2026-03-02T09:05:00" }),
    time_zone: z.string().openapi({ description: "The lot zone's IANA time zone, else the site's.", example: "America/Toronto" }),
    operation: z.enum(REPORT_OPERATIONS),
    reference: z.string(),
    version: z.number().int().openapi({ description: "The permit's version this operation made." }),
    type: z.enum(["temp", "standard"]),
    source: z.string(),
    plate: z.string().openapi({ description: "The plate after the operation (empty once retention removed it)." }),
    zone: z.string().nullable(),
    amount: z
      .string()
      .nullable()
      .openapi({ description: "What the operation added to the permit's amount (negative: taken back); null: nothing.", example: "2.50" }),
    amount_minor: z.number().int().nullable().openapi({ description: "The same in minor units (cents).", example: 250 }),
    currency: z.string().nullable(),
    actor: z.string().openapi({ description: "token:<id>, oauth:<client id>, admin, or job:<name>." }),
    permit_no: z.string().nullable(),
    ticket_number: z.string().nullable(),
  })
  .openapi("Transaction") satisfies z.ZodType<TransactionRow>;

export const TransactionReport = z
  .object({
    site: z.string(),
    from: z.string().openapi({ description: "The first instant covered, UTC." }),
    to: z.string().openapi({ description: "The instant the range ends (excluded), UTC." }),
    transactions: z.array(TransactionRowSchema),
  })
  .openapi("TransactionReport");

/** The formats the report comes in, the first the default (what a spreadsheet or an accounting import opens). */
const FORMATS = ["text/csv", "application/json"] as const;

/** Reports for the operator's other systems (accounting, reconciliation). */
export function registerReportRoutes(app: AdminApp) {
  app.openapi(
    adminRoute({
      method: "get",
      path: "/sites/{site}/reports/transactions",
      operationId: "transactionReport",
      summary: "The site's transactions in a date range, one row per operation, as CSV or JSON",
      description: `One row per operation on a permit, oldest first: create, update, delete, a session's start, extension and stop (session-start, session-extend, session-stop), and the ParkMobile import's creations and changes (import), read from the permits' history. Each row has the time in UTC and on the lot zone's clock (else the site's), the reference, source, plate, zone, the amount the operation added (negative when it took some back: a deletion takes back the permit's amount) in decimal and minor units, the currency and who did it. A change of currency is two rows: the old amount taken back, the new one charged. \`from\` and \`to\` are required (dates in the site's time zone, both days included, or UTC times, \`to\` excluded), at most ${REPORT_MAX_DAYS} days apart. CSV (RFC 4180, a header row, UTF-8, text a spreadsheet would run as a formula prefixed with an apostrophe) unless \`Accept\` prefers application/json; either is streamed as it is read. Covers what D1 holds: months retention archived are in the archives.`,
      request: { params: SiteParam, query: ReportQuery },
      responses: {
        200: {
          description: "The transactions",
          content: { "text/csv": { schema: z.string() }, "application/json": { schema: TransactionReport } },
        },
      },
      errors: [400, 404, 406],
    }),
    async (c) => {
      const site = await siteOf(c, c.req.valid("param").site);
      const q = c.req.valid("query");
      const range = reportRange(q.from.trim(), q.to.trim(), site.timeZone);
      const given = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);
      const zoneName = given(q.zone);
      const sourceName = given(q.source);
      const currency = q.currency?.trim() ? acceptedCurrency(site.currencies.split(","), q.currency) : undefined;
      const zone = zoneName === undefined ? undefined : await zoneFilter(c, site, zoneName);
      const source = sourceName === undefined ? undefined : await sourceFilter(c, site, sourceName);
      // The request is sound: now the format it can be answered in.
      const format = negotiate(c.req.header("accept"), FORMATS);
      const events = everyTransaction(c.env.DB, {
        siteId: site.id,
        ...range,
        zone,
        source,
      });
      const rows = mapBatches(events, (batch) =>
        batch
          .flatMap((e) => transactionRows({ ...e, timeZone: e.zoneTimeZone ?? site.timeZone }))
          .filter((row) => currency === undefined || row.currency === currency),
      );
      const filename = `${site.slug}-transactions-${q.from.trim()}-to-${q.to.trim()}`.replace(/[^A-Za-z0-9-]/g, "");
      if (format === "application/json") {
        const head = JSON.stringify({ site: site.slug, from: formatWireTime(range.from), to: formatWireTime(range.to) });
        let first = true;
        const parts = mapBatches(rows, (batch) => {
          const text = batch.map((row) => JSON.stringify(row)).join(",");
          const part = text && !first ? `,${text}` : text;
          if (text) first = false;
          return part;
        });
        return c.body(textStream(`${head.slice(0, -1)},"transactions":[`, parts, "]}"), 200, {
          "content-type": "application/json; charset=utf-8",
          "content-disposition": `attachment; filename="${filename}.json"`,
          vary: "Accept",
        });
      }
      return c.body(
        csvStream(
          REPORT_COLUMNS,
          mapBatches(rows, (batch) => batch.map((row) => REPORT_COLUMNS.map((column) => row[column]))),
        ),
        200,
        { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${filename}.csv"`, vary: "Accept" },
      );
    },
  );
}
