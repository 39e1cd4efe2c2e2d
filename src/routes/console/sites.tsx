import { Page } from "./layout";
import { api, type ConsoleApp } from "./session";

/** The site chooser. */
export function registerSitesPage(app: ConsoleApp) {
  app.get("/", async (c) => {
    const answer = await api(c).listSites();
    const sites = answer.ok ? answer.data.sites : [];
    return c.html(
      <Page title="Sites" session={c.get("session")} answer={answer}>
        <p>Choose the site to work on.</p>
        <ul>
          {sites.map((s) => (
            <li>
              <a href={`/admin/sites/${s.slug}/zones`}>{s.slug}</a> {s.name} ({s.currencies.join(", ")})
            </li>
          ))}
        </ul>
      </Page>,
    );
  });

  app.get("/sites/:site", (c) => c.redirect(`/admin/sites/${c.req.param("site")}/zones`, 303));
}
