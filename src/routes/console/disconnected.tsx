import { Form, Page, Table, Time } from "./layout";
import { api, type ConsoleApp } from "./session";
import { addZone } from "./zones";

/** Zone names pushes used that no lot zone matches; "Create lot zone" reconnects their records. */
export function registerDisconnectedPage(app: ConsoleApp) {
  app.get("/sites/:site/disconnected", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const answer = await api(c).listDisconnected(site);
    const zones = answer.ok ? answer.data.zones : [];
    return c.html(
      <Page title="Disconnected records" session={session} site={site} current="disconnected" answer={answer}>
        <p>Zone names that pushes used but no lot zone matches. Creating the lot zone reconnects their records.</p>
        <Table
          id="disconnected"
          empty="None: every zone name pushes used matches a lot zone."
          headers={["Zone name", "Records", "Last seen (UTC)", "Fix"]}
          rows={zones.map((z) => [
            z.name,
            z.count,
            <Time utc={z.lastSeen} />,
            <Form action={`/admin/sites/${site}/disconnected`} session={session} inline label={`Create lot zone ${z.name}`}>
              <input type="hidden" name="name" value={z.name} />
              <button type="submit">Create lot zone</button>
            </Form>,
          ])}
        />
      </Page>,
    );
  });

  app.post("/sites/:site/disconnected", (c) => addZone(c, c.req.param("site"), `/admin/sites/${c.req.param("site")}/disconnected`));
}
