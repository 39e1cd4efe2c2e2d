import { Form, Page } from "./layout";
import { api, type ConsoleApp, done, formNumber, outcome } from "./session";

const CREDENTIALS = [
  { name: "username", label: "API username", type: "text" },
  { name: "password", label: "API password", type: "password" },
  { name: "apiKey", label: "X-API-Key", type: "password" },
] as const;

/** System settings: the site's ParkMobile credentials (masked once saved) and base URL; the plate checks' grace period. */
export function registerSettingsPage(app: ConsoleApp) {
  app.get("/sites/:site/settings", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const [answer, siteAnswer] = await Promise.all([api(c).getParkMobile(site), api(c).getSite(site)]);
    const s = answer.ok ? answer.data : undefined;
    return c.html(
      <Page title="System settings" session={session} site={site} answer={answer.ok ? siteAnswer : answer}>
        <h2>ParkMobile</h2>
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
        <h2>Enforcement</h2>
        <Form action={`/admin/sites/${site}/settings/grace`} session={session} label="Grace period">
          <p>
            Plate checks (lookup, validate/plate, the Pay-by-Plate feed, isvalid, search) also return permits that ended less than this long
            ago, flagged as expired within the grace period, so a driver whose time just ran out is not ticketed.
          </p>
          <label for="graceMinutes">Grace period (minutes, 0 to 1440)</label>
          <input
            id="graceMinutes"
            name="graceMinutes"
            type="number"
            min={0}
            max={1440}
            required
            value={siteAnswer.ok ? String(siteAnswer.data.graceMinutes) : ""}
          />
          <button type="submit">Save grace period</button>
        </Form>
      </Page>,
    );
  });

  app.post("/sites/:site/settings/grace", async (c) => {
    const site = c.req.param("site");
    const answer = await api(c).updateSite(site, { graceMinutes: await formNumber(c, "graceMinutes") });
    return done(
      c,
      `/admin/sites/${site}/settings`,
      outcome(answer, (s) => `The grace period is now ${s.graceMinutes} minute(s).`),
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
