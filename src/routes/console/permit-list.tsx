import type { Child } from "hono/jsx";
import { SOURCES } from "../../domain/permit";
import { admin } from "../admin";
import { Page, type SitePage, Table, Time } from "./layout";
import { api, type ConsoleContext } from "./session";

const FILTERS = ["plate", "zone", "from", "to", "source", "promoCode", "active"] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/** The filters in the page's query string (blank ones left out). */
function filtersOf(c: ConsoleContext): Filters {
  return Object.fromEntries(FILTERS.flatMap((f) => (c.req.query(f) ? [[f, c.req.query(f) as string]] : [])));
}

/** A reference shortened for a table; its full value is on the permit's page (and in the link's title). */
const short = (reference: string) => `${reference.slice(0, 8)}…`;

/**
 * A search of one type of permit (Pay Station Status: temporary; standard permits), 50 a page: the filters, the
 * total, each permit's status, zone, times in UTC and in the site's time zone, and a CSV download of the whole
 * search. `before` comes above the search (a form to add a permit).
 */
export async function permitListPage(
  c: ConsoleContext,
  view: { type: "temp" | "standard"; page: SitePage; title: string; before?: Child },
) {
  const site = c.get("site");
  const session = c.get("session");
  const filters = filtersOf(c);
  const page = Math.max(1, Number(c.req.query("page")) || 1);
  const [answer, clients] = await Promise.all([
    api(c).searchPermits(site.slug, { ...filters, type: view.type, page }),
    api(c).listClients(site.slug),
  ]);
  const result = answer.ok ? answer.data : undefined;
  const base = `/admin/sites/${site.slug}/${view.page}`;
  const link = (p: number) => `${base}?${new URLSearchParams({ ...filters, page: String(p) })}`;
  // Sessions carry their OAuth client's label as their source.
  const labels = clients.ok ? clients.data.clients.map((client) => client.label) : [];
  const sources = view.type === "standard" ? [SOURCES.admin] : [...new Set([SOURCES.push, SOURCES.parkmobile, ...labels])];
  return c.html(
    <Page title={view.title} session={session} site={site.slug} current={view.page} answer={answer}>
      {view.before}
      <form method="get" action={base} aria-label="Search permits">
        <fieldset>
          <legend>Search</legend>
          <div class="fields">
            <label>
              Plate <input name="plate" value={filters.plate ?? ""} maxlength={25} />
            </label>
            <label>
              Zone <input name="zone" value={filters.zone ?? ""} maxlength={200} />
            </label>
            <label>
              From (UTC) <input name="from" value={filters.from ?? ""} placeholder="2026-11-22T00:00:00" />
            </label>
            <label>
              To (UTC) <input name="to" value={filters.to ?? ""} placeholder="2026-11-23T00:00:00" />
            </label>
            {view.type === "temp" ? (
              <>
                <label>
                  Source
                  <select name="source">
                    <option value="">any</option>
                    {sources.map((s) => (
                      <option value={s} selected={filters.source === s}>
                        {s}
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  Promo code <input name="promoCode" value={filters.promoCode ?? ""} maxlength={50} />
                </label>
              </>
            ) : null}
            <label class="check">
              <input type="checkbox" name="active" value="true" checked={filters.active === "true"} /> Active now only
            </label>
            <span>
              <button type="submit">Search</button>
            </span>
          </div>
        </fieldset>
      </form>
      {result ? (
        <p>
          {result.totalIsExact ? "" : "More than "}
          {result.total.toLocaleString("en")} permit(s) match
          {result.total > 0 ? `; page ${result.page} shows ${result.permits.length}` : ""}.{" "}
          {result.total > 0 ? <a href={`${base}.csv?${new URLSearchParams(filters)}`}>Download all as CSV</a> : null}
          {site.timeZone !== "UTC" ? <small> Local times: {site.timeZone}.</small> : null}
        </p>
      ) : null}
      <Table
        id="permits"
        empty="No permit matches."
        headers={["Reference", "Status", "Plate", "Zone", "Start (UTC)", "End (UTC)", "Amount", "Permit / ticket", "Source", "Promo Code"]}
        rows={(result?.permits ?? []).map((p) => [
          <a href={`/admin/sites/${site.slug}/permits/${p.reference_id}`} title={p.reference_id}>
            {short(p.reference_id)}
          </a>,
          p.status,
          <span class="nowrap">{p.plate}</span>,
          p.zone ? `${p.zone}${p.disconnected ? " (disconnected)" : ""}` : "",
          <Time utc={p.start} epoch={Date.parse(`${p.start}Z`) / 1000} zone={site.timeZone} />,
          <Time utc={p.end} epoch={Date.parse(`${p.end}Z`) / 1000} zone={site.timeZone} />,
          p.amount ? <span class="nowrap">{`${p.amount} ${p.currency ?? ""}`}</span> : "",
          p.permitNo ?? p.ticketNumber ?? "",
          p.source,
          p.promoCode ?? "",
        ])}
      />
      <nav aria-label="Pages">
        {page > 1 ? <a href={link(page - 1)}>Previous page</a> : null} Page {page}{" "}
        {result?.hasMore ? <a href={link(page + 1)}>Next page</a> : null}
      </nav>
    </Page>,
  );
}

/** The search's CSV, streamed from the admin API as it is read. */
export async function permitListCsv(c: ConsoleContext, type: "temp" | "standard") {
  const query = new URLSearchParams({ ...filtersOf(c), type });
  const path = `/sites/${encodeURIComponent(c.get("site").slug)}/permits/export?${query}`;
  return admin.request(path, { headers: { authorization: `Bearer ${c.env.ADMIN_TOKEN}` } }, c.env, c.executionCtx);
}
