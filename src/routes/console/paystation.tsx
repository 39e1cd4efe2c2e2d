import { Page, Table } from "./layout";
import { api, type ConsoleApp } from "./session";

const SEARCH_FIELDS = ["plate", "zone", "from", "to", "source", "promoCode"] as const;

/**
 * Pay Station Status: temporary permits by plate, zone, date range, source
 * (push, ParkMobile, or an OAuth client's sessions) and promo code, 50 a page.
 */
export function registerPayStationPage(app: ConsoleApp) {
  app.get("/sites/:site/paystation", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const query: Partial<Record<(typeof SEARCH_FIELDS)[number], string>> = Object.fromEntries(
      SEARCH_FIELDS.flatMap((f) => (c.req.query(f) ? [[f, c.req.query(f) as string]] : [])),
    );
    const page = Math.max(1, Number(c.req.query("page")) || 1);
    const answer = await api(c).searchPermits(site, { ...query, page });
    // Sessions carry their OAuth client's label as their source.
    const clients = await api(c).listClients(site);
    const sources = [...new Set(["push", "ParkMobile", ...(clients.ok ? clients.data.clients.map((cl) => cl.label) : [])])];
    const permits = answer.ok ? answer.data.permits : [];
    const link = (p: number) => `/admin/sites/${site}/paystation?${new URLSearchParams({ ...query, page: String(p) })}`;
    return c.html(
      <Page title="Pay Station Status" session={session} site={site} answer={answer}>
        <form method="get" action={`/admin/sites/${site}/paystation`} aria-label="Search temporary permits">
          <fieldset>
            <legend>Search temporary permits</legend>
            <label>
              Plate <input name="plate" value={query.plate ?? ""} maxlength={25} />
            </label>
            <label>
              Zone <input name="zone" value={query.zone ?? ""} maxlength={200} />
            </label>
            <label>
              From (UTC) <input name="from" value={query.from ?? ""} placeholder="2026-11-22T00:00:00" />
            </label>
            <label>
              To (UTC) <input name="to" value={query.to ?? ""} placeholder="2026-11-23T00:00:00" />
            </label>
            <label>
              Source{" "}
              <select name="source">
                <option value="">any</option>
                {sources.map((s) => (
                  <option value={s} selected={query.source === s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Promo code <input name="promoCode" value={query.promoCode ?? ""} maxlength={50} />
            </label>
            <button type="submit">Search</button>
          </fieldset>
        </form>
        <Table
          id="permits"
          headers={["Reference", "Plate", "Zone", "Start (UTC)", "End (UTC)", "Amount", "Permit / ticket", "Source", "Promo Code"]}
          rows={permits.map((p) => [
            <>
              <a href={`/admin/sites/${site}/permits/${p.reference_id}`}>{p.reference_id}</a>
              {p.deleted ? " (deleted)" : ""}
            </>,
            p.plate,
            p.zone ? `${p.zone}${p.disconnected ? " (disconnected)" : ""}` : "",
            p.start,
            p.end,
            p.amount ? `${p.amount} ${p.currency ?? ""}` : "",
            p.permitNo ?? p.ticketNumber ?? "",
            p.source,
            p.promoCode ?? "",
          ])}
        />
        {permits.length === 0 && answer.ok ? <p>No permits match.</p> : null}
        <nav aria-label="Pages">
          {page > 1 ? <a href={link(page - 1)}>Previous page</a> : null} Page {page}{" "}
          {answer.ok && answer.data.hasMore ? <a href={link(page + 1)}>Next page</a> : null}
        </nav>
      </Page>,
    );
  });
}
