import { Form, Page } from "./layout";
import { api, type ConsoleApp, done, outcome } from "./session";

const CREDENTIALS = [
  { name: "username", label: "API username", type: "text" },
  { name: "password", label: "API password", type: "password" },
  { name: "apiKey", label: "X-API-Key", type: "password" },
] as const;

/** System settings: the site's ParkMobile credentials (masked once saved) and base URL. */
export function registerSettingsPage(app: ConsoleApp) {
  app.get("/sites/:site/settings", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const answer = await api(c).getParkMobile(site);
    const s = answer.ok ? answer.data : undefined;
    return c.html(
      <Page title="System settings: ParkMobile" session={session} site={site} answer={answer}>
        <p>
          Credentials ParkMobile supplies. Saved values are stored encrypted and never shown again
          {s?.updatedAt ? `; last saved ${s.updatedAt} UTC` : ""}.
        </p>
        <Form action={`/admin/sites/${site}/settings`} session={session} label="ParkMobile settings">
          {CREDENTIALS.map(({ name, label, type }) => (
            <p>
              <label for={name}>{label}</label>
              <input
                id={name}
                name={name}
                type={type}
                autocomplete="off"
                placeholder={s?.[name] ? `${s[name]} (set; leave blank to keep)` : "not set"}
              />
            </p>
          ))}
          <p>
            <label for="baseUrl">Base URL</label>
            <input id="baseUrl" name="baseUrl" type="url" value={s?.baseUrl ?? ""} required size={40} />
          </p>
          <button type="submit">Save</button>
        </Form>
      </Page>,
    );
  });

  app.post("/sites/:site/settings", async (c) => {
    const site = c.req.param("site");
    const form = await c.req.parseBody({ all: true });
    const input: Record<string, string> = {};
    for (const name of ["username", "password", "apiKey", "baseUrl"]) {
      const value = form[name];
      if (typeof value === "string" && value !== "") input[name] = value;
    }
    const answer = await api(c).setParkMobile(site, input);
    return done(
      c,
      `/admin/sites/${site}/settings`,
      outcome(answer, () => "Saved the ParkMobile settings."),
    );
  });
}
