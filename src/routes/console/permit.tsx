import type { Child } from "hono/jsx";
import { Confirm, Details, Page, Table, Time } from "./layout";
import { api, type ConsoleApp, done, notOfSite, outcome } from "./session";

const epoch = (wire: string) => Date.parse(`${wire}Z`) / 1000;

/** One permit with every version of its history; a live one can be ended (after a confirmation). */
export function registerPermitPage(app: ConsoleApp) {
  app.get("/sites/:site/permits/:reference", async (c) => {
    const { reference } = c.req.param();
    const site = c.get("site");
    const session = c.get("session");
    const answer = await api(c).getPermit(reference);
    if ((answer.ok && answer.data.site !== site.slug) || (!answer.ok && answer.status === 404)) return notOfSite(c, `permit ${reference}`);
    const p = answer.ok ? answer.data : undefined;
    const zone = site.timeZone;
    const rows: [string, Child][] = p
      ? [
          ["Reference", <code>{p.reference_id}</code>],
          ["Status", p.status],
          ["Type / source", `${p.type} / ${p.source}`],
          ["Plate", p.anonymizedAt ? `removed by retention at ${p.anonymizedAt} UTC` : `${p.plate} (${p.plateNormalized})`],
          ["Plate state", p.plateState ?? "unknown"],
          ["Zone", p.disconnected ? `${p.zone} (disconnected)` : (p.zone ?? "")],
          ["Start (UTC)", <Time utc={p.start} epoch={epoch(p.start)} zone={zone} />],
          ["End (UTC)", <Time utc={p.end} epoch={epoch(p.end)} zone={zone} />],
          ["Amount", p.amount ? `${p.amount} ${p.currency ?? ""}` : ""],
          ["Permit / ticket", `${p.permitNo ?? "-"} / ${p.ticketNumber ?? "-"}`],
          ["Promo code", p.promoCode ?? ""],
          ["Plate state / space", `${p.plateState ?? "-"} / ${p.spaceNumber ?? "-"}`],
          ["Stopped (UTC)", p.stoppedAt ? <Time utc={p.stoppedAt} /> : ""],
          ["Version", p.version],
          ["Deleted", p.deletedAt ? <Time utc={p.deletedAt} /> : "no"],
        ]
      : [];
    return c.html(
      <Page title="Permit" session={session} site={site.slug} current={p?.type === "standard" ? "standard" : "paystation"} answer={answer}>
        <Details id="permit" rows={rows} />
        {p && !p.deletedAt ? (
          <form method="get" action={`/admin/sites/${site.slug}/permits/${p.reference_id}/end`} aria-label="End this permit">
            <button type="submit">End this permit</button>
          </form>
        ) : null}
        <h2>History</h2>
        <Table
          id="history"
          headers={["Version", "Action", "At (UTC)", "By", "Changes (before → after)"]}
          rows={(p?.history ?? []).map((h) => [
            h.version,
            h.action,
            <Time utc={h.at} />,
            h.actor,
            Object.entries(h.changes)
              .map(([k, [a, b]]) => `${k}: ${a ?? "-"} → ${b ?? "-"}`)
              .join("; "),
          ])}
        />
      </Page>,
    );
  });

  app.get("/sites/:site/permits/:reference/end", async (c) => {
    const { site, reference } = c.req.param();
    const answer = await api(c).getPermit(reference);
    if (!answer.ok || answer.data.site !== site) return notOfSite(c, `permit ${reference}`);
    return c.html(
      <Confirm
        title="End this permit?"
        session={c.get("session")}
        site={site}
        question={`Permit ${reference} stops counting at once: lookups, stats and the enforcement see it no more. It is kept, marked deleted, with its history.`}
        action={`/admin/sites/${site}/permits/${reference}/end`}
        button="End the permit"
        back={`/admin/sites/${site}/permits/${reference}`}
      />,
    );
  });

  app.post("/sites/:site/permits/:reference/end", async (c) => {
    const { site, reference } = c.req.param();
    const answer = await api(c).endPermit(site, reference);
    return done(
      c,
      `/admin/sites/${site}/permits/${reference}`,
      outcome(answer, (r) => `Ended permit ${r.reference_id}.`),
    );
  });
}
