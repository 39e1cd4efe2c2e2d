import { SOURCES } from "../../domain/permit";
import { admin } from "../admin";
import type { AdminError } from "../admin/client";
import { Page } from "./layout";
import { api, type ConsoleApp, type ConsoleContext } from "./session";

const FILTERS = ["from", "to", "zone", "source", "currency"] as const;

/** The report's filters in the page's query string (blank ones left out). */
function filtersOf(c: ConsoleContext): Partial<Record<(typeof FILTERS)[number], string>> {
  return Object.fromEntries(FILTERS.flatMap((f) => (c.req.query(f)?.trim() ? [[f, (c.req.query(f) as string).trim()]] : [])));
}

/** The form; `error` is the admin API's refusal of the last download, shown with what was asked. */
async function reportsPage(c: ConsoleContext, error?: { status: number; error: AdminError }) {
  const site = c.get("site");
  const session = c.get("session");
  const asked = filtersOf(c);
  const format = c.req.query("format") === "json" ? "json" : "csv";
  const [zones, clients] = await Promise.all([api(c).listZones(site.slug), api(c).listClients(site.slug)]);
  const zoneNames = zones.ok ? zones.data.zones.map((z) => z.name) : [];
  const sources = [
    ...new Set([SOURCES.push, SOURCES.parkmobile, SOURCES.admin, ...(clients.ok ? clients.data.clients.map((cl) => cl.label) : [])]),
  ];
  const options = (name: string, values: string[], labels: Record<string, string> = {}) =>
    ["", ...values].map((v) => (
      <option value={v} selected={(asked[name as keyof typeof asked] ?? "") === v}>
        {v === "" ? "any" : (labels[v] ?? v)}
      </option>
    ));
  return c.html(
    <Page
      title="Reports"
      session={session}
      site={site.slug}
      current="reports"
      answer={error ? { ok: false, status: error.status, error: error.error } : undefined}
    >
      <form method="get" action={`/admin/sites/${site.slug}/reports/transactions`} aria-label="Transactions report">
        <fieldset>
          <legend>Transactions</legend>
          <p>
            One row per operation on a permit (created, updated, deleted; a session started, extended, stopped; a ParkMobile import), with
            the amount it added and who did it. Days are those of the site's time zone ({site.timeZone}), both included; at most 31 of them.
          </p>
          <div class="fields">
            <label>
              From <input name="from" type="date" value={asked.from ?? ""} required />
            </label>
            <label>
              To <input name="to" type="date" value={asked.to ?? ""} required />
            </label>
            <label>
              Zone <select name="zone">{options("zone", zoneNames)}</select>
            </label>
            <label>
              Source <select name="source">{options("source", sources)}</select>
            </label>
            <label>
              Currency <select name="currency">{options("currency", site.currencies)}</select>
            </label>
            <label>
              Format
              <select name="format">
                <option value="csv" selected={format === "csv"}>
                  CSV
                </option>
                <option value="json" selected={format === "json"}>
                  JSON
                </option>
              </select>
            </label>
            <span>
              <button type="submit">Download</button>
            </span>
          </div>
        </fieldset>
      </form>
    </Page>,
    error ? (error.status as 400) : 200,
  );
}

/** Reports for the operator's other systems: the transactions report, downloaded through the admin API in-process. */
export function registerReportsPage(app: ConsoleApp) {
  app.get("/sites/:site/reports", (c) => reportsPage(c));

  // The file, streamed from the admin API as it is read; a refusal comes back as the form, with the reason.
  app.get("/sites/:site/reports/transactions", async (c) => {
    const accept = c.req.query("format") === "json" ? "application/json" : "text/csv";
    const path = `/sites/${encodeURIComponent(c.get("site").slug)}/reports/transactions?${new URLSearchParams(filtersOf(c))}`;
    const res = await admin.request(path, { headers: { authorization: `Bearer ${c.env.ADMIN_TOKEN}`, accept } }, c.env, c.executionCtx);
    if (res.ok) return res;
    return reportsPage(c, { status: res.status, error: (await res.json()) as AdminError });
  });
}
