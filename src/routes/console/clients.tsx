import { CLIENT_SCOPES } from "../../auth/scopes";
import { Confirm, Form, Page, Table, Time } from "./layout";
import { api, type ConsoleApp, done, notOfSite, outcome, siteHolds } from "./session";
import { postedTier, TierForm } from "./tokens";

/** OAuth clients (aggregators such as ParkOnce): register (the secret shown once), list, rotate, revoke. */
export function registerClientsPage(app: ConsoleApp) {
  app.get("/sites/:site/clients", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const answer = await api(c).listClients(site);
    const clients = answer.ok ? answer.data.clients : [];
    return c.html(
      <Page title="OAuth clients" session={session} site={site} current="clients" answer={answer}>
        {session.flash?.secret ? (
          <section aria-label="New client secret">
            <p>Store this client secret now: it is shown this once and cannot be read back, only rotated.</p>
            <output id="new-secret">{session.flash.secret}</output>
          </section>
        ) : null}
        <p>
          An aggregator gets access tokens from <code>POST /oauth/token</code> with its client_id and client_secret (client credentials),
          and starts sessions whose source is the client's label.
        </p>
        <Form action={`/admin/sites/${site}/clients`} session={session} label="Register a client">
          <fieldset>
            <legend>Register a client</legend>
            <div class="fields">
              <label>
                Label <input id="client-label" name="label" required maxlength={100} placeholder="ParkOnce" />
              </label>
              {CLIENT_SCOPES.map((scope) => (
                <label class="check">
                  <input type="checkbox" name="scopes" value={scope} checked={scope === "sessions"} /> {scope}
                </label>
              ))}
              <span>
                <button type="submit">Register client</button>
              </span>
            </div>
          </fieldset>
        </Form>
        <Table
          id="clients"
          empty="No OAuth clients yet."
          headers={[
            "Client id",
            "Label",
            "Scopes",
            "Secret starts with",
            "Created (UTC)",
            "Last used",
            "Rate-limit tier",
            "Rotate",
            "Revoke",
          ]}
          rows={clients.map((cl) => [
            cl.clientId,
            cl.label,
            cl.scopes.join(", "),
            `${cl.secretPrefix}…`,
            <Time utc={cl.createdAt} />,
            cl.lastUsedAt ? <Time utc={cl.lastUsedAt} /> : "never",
            cl.revokedAt ? (
              cl.tier
            ) : (
              <TierForm action={`/admin/sites/${site}/clients/${cl.clientId}/tier`} session={session} tier={cl.tier} who={cl.clientId} />
            ),
            cl.revokedAt ? (
              ""
            ) : (
              <form
                method="get"
                action={`/admin/sites/${site}/clients/${cl.clientId}/rotate`}
                class="inline"
                aria-label={`Rotate ${cl.clientId}`}
              >
                <button type="submit">Rotate secret</button>
              </form>
            ),
            cl.revokedAt ? (
              <>
                revoked <Time utc={cl.revokedAt} />
              </>
            ) : (
              <form
                method="get"
                action={`/admin/sites/${site}/clients/${cl.clientId}/revoke`}
                class="inline"
                aria-label={`Revoke ${cl.clientId}`}
              >
                <button type="submit">Revoke</button>
              </form>
            ),
          ])}
        />
      </Page>,
    );
  });

  app.post("/sites/:site/clients", async (c) => {
    const site = c.req.param("site");
    const form = await c.req.parseBody({ all: true });
    const scopes = ([] as unknown[])
      .concat(form.scopes ?? [])
      .filter((s): s is (typeof CLIENT_SCOPES)[number] => typeof s === "string" && (CLIENT_SCOPES as readonly string[]).includes(s));
    const label = typeof form.label === "string" ? form.label : "";
    if (scopes.length === 0) return done(c, `/admin/sites/${site}/clients`, { kind: "error", text: "Choose at least one scope." });
    const answer = await api(c).createClient(site, { label, scopes });
    return done(c, `/admin/sites/${site}/clients`, {
      ...outcome(answer, (cl) => `Registered OAuth client ${cl.label}: client_id ${cl.clientId} (${cl.scopes.join(", ")}).`),
      ...(answer.ok ? { secret: answer.data.clientSecret } : {}),
    });
  });

  for (const [action, question, button] of [
    [
      "rotate",
      "Its current secret, and every access token issued with it, stop working at once; the new secret is shown once.",
      "Rotate the secret",
    ],
    ["revoke", "It can no longer get access tokens, and those it holds stop working; this cannot be undone.", "Revoke the client"],
  ] as const) {
    app.get(`/sites/:site/clients/:id/${action}`, async (c) => {
      const { site, id } = c.req.param();
      if (!(await siteHolds(c, "client", id))) return notOfSite(c, `OAuth client ${id}`);
      return c.html(
        <Confirm
          title={`${action === "rotate" ? "Rotate the secret of" : "Revoke"} OAuth client ${id}?`}
          session={c.get("session")}
          site={site}
          current="clients"
          question={question}
          action={`/admin/sites/${site}/clients/${id}/${action}`}
          button={button}
          back={`/admin/sites/${site}/clients`}
        />,
      );
    });
  }

  app.post("/sites/:site/clients/:id/rotate", async (c) => {
    const { site, id } = c.req.param();
    if (!(await siteHolds(c, "client", id))) return notOfSite(c, `OAuth client ${id}`);
    const answer = await api(c).rotateClient(id);
    return done(c, `/admin/sites/${site}/clients`, {
      ...outcome(answer, (cl) => `Rotated the secret of ${cl.clientId}; the old secret and its access tokens no longer work.`),
      ...(answer.ok ? { secret: answer.data.clientSecret } : {}),
    });
  });

  app.post("/sites/:site/clients/:id/tier", async (c) => {
    const { site, id } = c.req.param();
    if (!(await siteHolds(c, "client", id))) return notOfSite(c, `OAuth client ${id}`);
    const answer = await api(c).setClientTier(id, await postedTier(c));
    return done(
      c,
      `/admin/sites/${site}/clients`,
      outcome(answer, (cl) => `OAuth client ${cl.clientId} is now in tier ${cl.tier}.`),
    );
  });

  app.post("/sites/:site/clients/:id/revoke", async (c) => {
    const { site, id } = c.req.param();
    if (!(await siteHolds(c, "client", id))) return notOfSite(c, `OAuth client ${id}`);
    const answer = await api(c).revokeClient(id);
    return done(
      c,
      `/admin/sites/${site}/clients`,
      outcome(answer, () => `Revoked OAuth client ${id}; its access tokens no longer work.`),
    );
  });
}
