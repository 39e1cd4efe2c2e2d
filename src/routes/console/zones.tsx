import { Confirm, Form, Page, Table, Time } from "./layout";
import { api, type ConsoleApp, type ConsoleContext, done, formField, outcome, refilled } from "./session";

/** Adds a lot zone (from the zones page or the disconnected page) and reports what it reconnected. */
export async function addZone(c: ConsoleContext, site: string, back: string) {
  const name = await formField(c, "name");
  const answer = await api(c).addZone(site, name);
  return done(
    c,
    back,
    outcome(answer, (zone) => `Added lot zone ${zone.name}; reconnected ${zone.reconnected} disconnected record(s).`, { name }),
  );
}

/** Lot zones: add, rename, remove (after a confirmation). */
export function registerZonesPage(app: ConsoleApp) {
  app.get("/sites/:site/zones", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const answer = await api(c).listZones(site);
    const zones = answer.ok ? answer.data.zones : [];
    return c.html(
      <Page title="Lot zones" session={session} site={site} current="zones" answer={answer}>
        <Form action={`/admin/sites/${site}/zones`} session={session} label="Add lot zone">
          <label for="new-zone">New lot zone</label>{" "}
          <input id="new-zone" name="name" required maxlength={200} value={refilled(c, "name")} />{" "}
          <button type="submit">Add lot zone</button>
        </Form>
        <Table
          id="zones"
          headers={["Name", "Created (UTC)", "Rename", "Remove"]}
          rows={zones.map((z) => [
            z.name,
            <Time utc={z.createdAt} />,
            <Form action={`/admin/sites/${site}/zones/${z.id}/rename`} session={session} inline label={`Rename ${z.name}`}>
              <input name="name" value={z.name} required maxlength={200} aria-label={`New name for ${z.name}`} />{" "}
              <button type="submit">Rename</button>
            </Form>,
            <form method="get" action={`/admin/sites/${site}/zones/${z.id}/remove`} class="inline" aria-label={`Remove ${z.name}`}>
              <button type="submit">Remove</button>
            </form>,
          ])}
        />
      </Page>,
    );
  });

  app.post("/sites/:site/zones", (c) => addZone(c, c.req.param("site"), `/admin/sites/${c.req.param("site")}/zones`));

  app.post("/sites/:site/zones/:id/rename", async (c) => {
    const { site, id } = c.req.param();
    const answer = await api(c).renameZone(site, id, await formField(c, "name"));
    return done(
      c,
      `/admin/sites/${site}/zones`,
      outcome(answer, (zone) => `Renamed the lot zone to ${zone.name}.`),
    );
  });

  app.get("/sites/:site/zones/:id/remove", async (c) => {
    const { site, id } = c.req.param();
    const answer = await api(c).listZones(site);
    const zone = answer.ok ? answer.data.zones.find((z) => String(z.id) === id) : undefined;
    if (!zone) return c.redirect(`/admin/sites/${site}/zones`, 303);
    return c.html(
      <Confirm
        title={`Remove lot zone ${zone.name}?`}
        session={c.get("session")}
        site={site}
        current="zones"
        question={`Its permits keep the zone name "${zone.name}" and become disconnected; adding a lot zone of that name again reconnects them.`}
        action={`/admin/sites/${site}/zones/${zone.id}/remove`}
        button={`Remove lot zone ${zone.name}`}
        back={`/admin/sites/${site}/zones`}
      />,
    );
  });

  app.post("/sites/:site/zones/:id/remove", async (c) => {
    const { site, id } = c.req.param();
    const answer = await api(c).removeZone(site, id);
    return done(
      c,
      `/admin/sites/${site}/zones`,
      outcome(answer, (r) => `Removed lot zone ${r.removed.name}; ${r.disconnected} record(s) are now disconnected.`),
    );
  });
}
