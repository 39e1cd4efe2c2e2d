import { SCOPES } from "../../auth/scopes";
import { Form, Page, Table } from "./layout";
import { api, type ConsoleApp, done, outcome } from "./session";

/** API tokens: issue (the secret shown once), list, revoke. */
export function registerTokensPage(app: ConsoleApp) {
  app.get("/sites/:site/tokens", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const answer = await api(c).listTokens(site);
    const tokens = answer.ok ? answer.data.tokens : [];
    return c.html(
      <Page title="API tokens" session={session} site={site} answer={answer}>
        {session.flash?.secret ? (
          <section aria-label="New token">
            <p>Store this secret now: it is shown this once and cannot be read back, only rotated.</p>
            <output id="new-token">{session.flash.secret}</output>
          </section>
        ) : null}
        <Form action={`/admin/sites/${site}/tokens`} session={session} label="Issue a token">
          <fieldset>
            <legend>Issue a token</legend>
            {SCOPES.map((scope) => (
              <label>
                <input type="checkbox" name="scopes" value={scope} /> {scope}
              </label>
            ))}
            <p>
              <label for="label">Label</label>
              <input id="label" name="label" maxlength={100} />
            </p>
            <button type="submit">Issue token</button>
          </fieldset>
        </Form>
        <Table
          id="tokens"
          headers={["Id", "Starts with", "Label", "Scopes", "Created (UTC)", "Last used", "Revoked"]}
          rows={tokens.map((t) => [
            t.id,
            `${t.prefix}…`,
            t.label ?? "",
            t.scopes.join(", "),
            t.createdAt,
            t.lastUsedAt ?? "never",
            t.revokedAt ? (
              `revoked ${t.revokedAt}`
            ) : (
              <Form action={`/admin/sites/${site}/tokens/${t.id}/revoke`} session={session} inline label={`Revoke ${t.id}`}>
                <button type="submit">Revoke</button>
              </Form>
            ),
          ])}
        />
      </Page>,
    );
  });

  app.post("/sites/:site/tokens", async (c) => {
    const site = c.req.param("site");
    const form = await c.req.parseBody({ all: true });
    const scopes = ([] as unknown[]).concat(form.scopes ?? []).filter((s): s is (typeof SCOPES)[number] => typeof s === "string");
    const label = typeof form.label === "string" && form.label.trim() ? form.label : undefined;
    if (scopes.length === 0) return done(c, `/admin/sites/${site}/tokens`, { kind: "error", text: "Choose at least one scope." });
    const answer = await api(c).createToken(site, { scopes, label });
    return done(c, `/admin/sites/${site}/tokens`, {
      ...outcome(answer, (t) => `Issued token ${t.id} (${scopes.join(", ")}).`),
      ...(answer.ok ? { secret: answer.data.token } : {}),
    });
  });

  app.post("/sites/:site/tokens/:id/revoke", async (c) => {
    const { site, id } = c.req.param();
    const answer = await api(c).revokeToken(id);
    return done(
      c,
      `/admin/sites/${site}/tokens`,
      outcome(answer, () => `Revoked token ${id}.`),
    );
  });
}
