import { Form, Page } from "./layout";
import { api, type ConsoleApp, done, formField, formNumber, outcome, refilled } from "./session";

/** System settings: the site's ParkMobile account, its secrets (masked once saved), base URL, and a connection check; the plate checks' grace period. */
export function registerSettingsPage(app: ConsoleApp) {
  app.get("/sites/:site/settings", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const answer = await api(c).getParkMobile(site);
    const s = answer.ok ? answer.data : undefined;
    const state = (value: string | null | undefined) => (value ? "saved; leave blank to keep" : "not set");
    return c.html(
      <Page title="System settings" session={session} site={site} current="settings" answer={answer}>
        <h2>ParkMobile</h2>
        <p>
          The account ParkMobile supplies for the import. The password and key are stored encrypted and never shown again
          {s?.updatedAt ? `; last saved ${s.updatedAt.replace("T", " ")} UTC` : ""}.
        </p>
        {s?.problem ? <p role="alert">{s.problem}</p> : null}
        <Form action={`/admin/sites/${site}/settings`} session={session} label="ParkMobile settings">
          <div class="fields">
            <label>
              API username <input name="username" autocomplete="off" value={s?.username ?? ""} />
            </label>
            <label>
              API password <small>({state(s?.password)})</small>
              <input name="password" type="password" autocomplete="off" />
            </label>
            <label>
              X-API-Key <small>({state(s?.apiKey)})</small>
              <input name="apiKey" type="password" autocomplete="off" />
            </label>
            <label>
              Base URL <input name="baseUrl" type="url" value={s?.baseUrl ?? ""} required />
            </label>
          </div>
          <p>
            <button type="submit">Save</button>
          </p>
        </Form>
        <Form action={`/admin/sites/${site}/settings/test`} session={session} label="Check the connection">
          <p>
            <button type="submit">Test connection</button> <small>Checks the saved settings against ParkMobile; imports nothing.</small>
          </p>
        </Form>
        <h2>Enforcement</h2>
        <Form action={`/admin/sites/${site}/settings/grace`} session={session} label="Grace period">
          <p>
            Plate checks (lookup, validate/plate, the Pay-by-Plate feed, isvalid, search) also return permits that ended less than this long
            ago, flagged as expired within the grace period, so a driver whose time just ran out is not ticketed.
          </p>
          <div class="fields">
            <label>
              Grace period (minutes, 0 to 1440)
              <input
                name="graceMinutes"
                type="number"
                min={0}
                max={1440}
                required
                value={refilled(c, "graceMinutes") || String(c.get("site").graceMinutes)}
              />
            </label>
          </div>
          <p>
            <button type="submit">Save grace period</button>
          </p>
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
      outcome(answer, (s) => `The grace period is now ${s.graceMinutes} minute(s).`, { graceMinutes: await formField(c, "graceMinutes") }),
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

  app.post("/sites/:site/settings/test", async (c) => {
    const site = c.req.param("site");
    const answer = await api(c).testParkMobile(site);
    const check = answer.ok ? answer.data : undefined;
    return done(
      c,
      `/admin/sites/${site}/settings`,
      check && !check.ok
        ? { kind: "error", text: `ParkMobile check failed: ${check.message}` }
        : outcome(
            answer,
            (r) =>
              `ParkMobile accepted the settings. A run would import zone(s) ${r.matched.join(", ") || "(none)"} and skip ${r.skipped.join(", ") || "none"}.`,
          ),
    );
  });
}
