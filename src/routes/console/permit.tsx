import { Page, Table } from "./layout";
import { api, type ConsoleApp } from "./session";

/** One permit with every version of its history. */
export function registerPermitPage(app: ConsoleApp) {
  app.get("/sites/:site/permits/:reference", async (c) => {
    const { site, reference } = c.req.param();
    const answer = await api(c).getPermit(reference);
    const p = answer.ok ? answer.data : undefined;
    const rows: [string, string | number][] = p
      ? [
          ["Type / source", `${p.type} / ${p.source}`],
          ["Plate", p.anonymizedAt ? `removed by retention at ${p.anonymizedAt} UTC` : `${p.plate} (${p.plateNormalized})`],
          ["Plate state", p.plateState ?? "unknown"],
          ["Zone", p.disconnected ? `${p.zone} (disconnected)` : (p.zone ?? "")],
          ["Valid (UTC)", `${p.start} to ${p.end}`],
          ["Amount", p.amount ? `${p.amount} ${p.currency ?? ""}` : ""],
          ["Permit / ticket", `${p.permitNo ?? "-"} / ${p.ticketNumber ?? "-"}`],
          ["Promo code", p.promoCode ?? ""],
          ["Version", p.version],
          ["Deleted", p.deletedAt ?? "no"],
        ]
      : [];
    return c.html(
      <Page title={`Permit ${reference}`} session={c.get("session")} site={site} answer={answer}>
        <table id="permit">
          <tbody>
            {rows.map(([k, v]) => (
              <tr>
                <th>{k}</th>
                <td>{String(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>History</h2>
        <Table
          id="history"
          headers={["Version", "Action", "At (UTC)", "By", "Changes (before → after)"]}
          rows={(p?.history ?? []).map((h) => [
            h.version,
            h.action,
            h.at,
            h.actor,
            Object.entries(h.changes)
              .map(([k, [a, b]]) => `${k}: ${a ?? "-"} → ${b ?? "-"}`)
              .join("; "),
          ])}
        />
      </Page>,
    );
  });
}
