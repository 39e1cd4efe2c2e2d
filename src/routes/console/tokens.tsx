import { SCOPES } from "../../auth/scopes";
import type { ConsoleSession } from "../../db/console-sessions";
import { RATE_TIERS, type RateTier } from "../../domain/rate-limits";
import { Confirm, Form, Page, Table, Time } from "./layout";
import { api, type ConsoleApp, type ConsoleContext, done, formField, notOfSite, outcome, siteHolds } from "./session";

/** A live credential's rate-limit tier, and the form that changes it (`action` takes `tier`). */
export function TierForm(props: { action: string; session: ConsoleSession; tier: RateTier; who: string }) {
  return (
    <Form action={props.action} session={props.session} inline label={`Tier of ${props.who}`}>
      <select name="tier" aria-label={`Tier of ${props.who}`}>
        {RATE_TIERS.map((tier) => (
          <option value={tier} selected={tier === props.tier}>
            {tier}
          </option>
        ))}
      </select>{" "}
      <button type="submit">Set tier</button>
    </Form>
  );
}

/** The tier a tier form posted: one of the tiers, else what was typed, for the admin API to refuse naming the rule. */
export async function postedTier(c: ConsoleContext): Promise<RateTier> {
  return (await formField(c, "tier")) as RateTier;
}

/** API tokens: issue (the secret shown once), list, revoke. */
export function registerTokensPage(app: ConsoleApp) {
  app.get("/sites/:site/tokens", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const answer = await api(c).listTokens(site);
    const tokens = answer.ok ? answer.data.tokens : [];
    return c.html(
      <Page title="API tokens" session={session} site={site} current="tokens" answer={answer}>
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
          empty="No tokens yet."
          headers={["Id", "Starts with", "Label", "Scopes", "Created (UTC)", "Last used", "Rate-limit tier", "Revoked"]}
          rows={tokens.map((t) => [
            t.id,
            `${t.prefix}…`,
            t.label ?? "",
            t.scopes.join(", "),
            <Time utc={t.createdAt} />,
            t.lastUsedAt ? <Time utc={t.lastUsedAt} /> : "never",
            t.revokedAt ? (
              t.tier
            ) : (
              <TierForm action={`/admin/sites/${site}/tokens/${t.id}/tier`} session={session} tier={t.tier} who={t.id} />
            ),
            t.revokedAt ? (
              <>
                revoked <Time utc={t.revokedAt} />
              </>
            ) : (
              <form method="get" action={`/admin/sites/${site}/tokens/${t.id}/revoke`} class="inline" aria-label={`Revoke ${t.id}`}>
                <button type="submit">Revoke</button>
              </form>
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

  app.post("/sites/:site/tokens/:id/tier", async (c) => {
    const { site, id } = c.req.param();
    if (!(await siteHolds(c, "token", id))) return notOfSite(c, `API token ${id}`);
    const answer = await api(c).setTokenTier(id, await postedTier(c));
    return done(
      c,
      `/admin/sites/${site}/tokens`,
      outcome(answer, (t) => `Token ${t.id} is now in tier ${t.tier}.`),
    );
  });

  app.get("/sites/:site/tokens/:id/revoke", async (c) => {
    const { site, id } = c.req.param();
    if (!(await siteHolds(c, "token", id))) return notOfSite(c, `API token ${id}`);
    return c.html(
      <Confirm
        title={`Revoke token ${id}?`}
        session={c.get("session")}
        site={site}
        current="tokens"
        question="Whatever uses it (a pay station, an enforcement tool) is refused from then on; this cannot be undone."
        action={`/admin/sites/${site}/tokens/${id}/revoke`}
        button={`Revoke token ${id}`}
        back={`/admin/sites/${site}/tokens`}
      />,
    );
  });

  app.post("/sites/:site/tokens/:id/revoke", async (c) => {
    const { site, id } = c.req.param();
    if (!(await siteHolds(c, "token", id))) return notOfSite(c, `API token ${id}`);
    const answer = await api(c).revokeToken(id);
    return done(
      c,
      `/admin/sites/${site}/tokens`,
      outcome(answer, () => `Revoked token ${id}.`),
    );
  });
}
