import { PREVIOUS_SECRET_HOURS, WEBHOOK_EVENT_TYPES, WEBHOOK_EVENTS } from "../../domain/webhooks";
import { Confirm, Details, Form, Page, Table, Time } from "./layout";
import { api, type ConsoleApp, type ConsoleContext, type Data, done, notOfSite, outcome, refilled } from "./session";

type Endpoint = Data<"getWebhook">;

/** The endpoint of that id if the site in the path holds it (the console acts only under the site that holds a record). */
async function endpointOfSite(c: ConsoleContext, id: string): Promise<Endpoint | null> {
  const answer = await api(c).listWebhooks(c.get("site").slug);
  return (answer.ok && answer.data.endpoints.find((e) => e.id === id)) || null;
}

const state = (e: Endpoint) =>
  e.enabled ? "enabled" : e.disabledReason === "gone" ? "disabled: the receiver answered 410 Gone" : "disabled";

/**
 * Webhooks: register an endpoint (URL, description, the events it wants; the signing secret shown once), list them,
 * disable and enable, rotate the secret, delete (both ask first); an endpoint's deliveries, each with its attempts,
 * and redelivery by hand.
 */
export function registerWebhooksPage(app: ConsoleApp) {
  app.get("/sites/:site/webhooks", async (c) => {
    const site = c.req.param("site");
    const session = c.get("session");
    const answer = await api(c).listWebhooks(site);
    const endpoints = answer.ok ? answer.data.endpoints : [];
    const checked = (refilled(c, "events") || "permit.created,permit.updated,permit.deleted").split(",");
    return c.html(
      <Page title="Webhooks" session={session} site={site} current="webhooks" answer={answer}>
        {session.flash?.secret ? (
          <section aria-label="New signing secret">
            <p>Store this signing secret now: it is shown this once and cannot be read back, only rotated.</p>
            <output id="new-secret">{session.flash.secret}</output>
          </section>
        ) : null}
        <p>
          Each endpoint receives the site's events of the types it lists, signed as Standard Webhooks says (<code>webhook-id</code>,{" "}
          <code>webhook-timestamp</code>, <code>webhook-signature</code>) with its own secret. A failed delivery is retried for about a day;
          a receiver answering 410 Gone is disabled.
        </p>
        <Form action={`/admin/sites/${site}/webhooks`} session={session} label="Register an endpoint">
          <fieldset>
            <legend>Register an endpoint</legend>
            <div class="fields">
              <label>
                URL (https) <input id="webhook-url" name="url" type="url" required value={refilled(c, "url")} placeholder="https://" />
              </label>
              <label>
                Description <input name="description" maxlength={200} value={refilled(c, "description")} />
              </label>
            </div>
            <div class="fields">
              {WEBHOOK_EVENT_TYPES.map((type) => (
                <label class="check" title={WEBHOOK_EVENTS[type]}>
                  <input type="checkbox" name="events" value={type} checked={checked.includes(type)} /> {type}
                </label>
              ))}
            </div>
            <p>
              <button type="submit">Register endpoint</button>
            </p>
          </fieldset>
        </Form>
        <Table
          id="webhooks"
          empty="No webhook endpoints yet."
          headers={["URL", "Events", "Description", "State", "Secret starts with", "Created (UTC)", "Actions"]}
          alerts={endpoints.map((e) => !e.enabled)}
          rows={endpoints.map((e) => [
            <a href={`/admin/sites/${site}/webhooks/${e.id}`}>{e.url}</a>,
            e.events.join(", "),
            e.description ?? "",
            state(e),
            `${e.secretPrefix}…`,
            <Time utc={e.createdAt} />,
            <>
              <a href={`/admin/sites/${site}/webhooks/${e.id}`}>Deliveries</a>{" "}
              <Form
                action={`/admin/sites/${site}/webhooks/${e.id}/${e.enabled ? "disable" : "enable"}`}
                session={session}
                inline
                label={`${e.enabled ? "Disable" : "Enable"} ${e.id}`}
              >
                <button type="submit">{e.enabled ? "Disable" : "Enable"}</button>
              </Form>{" "}
              <form method="get" action={`/admin/sites/${site}/webhooks/${e.id}/rotate`} class="inline" aria-label={`Rotate ${e.id}`}>
                <button type="submit">Rotate secret</button>
              </form>{" "}
              <form method="get" action={`/admin/sites/${site}/webhooks/${e.id}/delete`} class="inline" aria-label={`Delete ${e.id}`}>
                <button type="submit">Delete</button>
              </form>
            </>,
          ])}
        />
      </Page>,
    );
  });

  app.post("/sites/:site/webhooks", async (c) => {
    const site = c.req.param("site");
    const form = await c.req.parseBody({ all: true });
    const events = ([] as unknown[]).concat(form.events ?? []).filter((e): e is string => typeof e === "string");
    const url = typeof form.url === "string" ? form.url : "";
    const description = typeof form.description === "string" ? form.description : "";
    const values = { url, description, events: events.join(",") };
    if (events.length === 0) return done(c, `/admin/sites/${site}/webhooks`, { kind: "error", text: "Choose at least one event.", values });
    const answer = await api(c).createWebhook(site, {
      url,
      events: events as Endpoint["events"],
      description: description.trim() === "" ? undefined : description,
    });
    return done(c, `/admin/sites/${site}/webhooks`, {
      ...outcome(answer, (e) => `Registered webhook endpoint ${e.id} for ${e.events.join(", ")}.`, values),
      ...(answer.ok ? { secret: answer.data.secret } : {}),
    });
  });

  for (const [action, enabled] of [
    ["enable", true],
    ["disable", false],
  ] as const) {
    app.post(`/sites/:site/webhooks/:id/${action}`, async (c) => {
      const { site, id } = c.req.param();
      if (!(await endpointOfSite(c, id))) return notOfSite(c, `webhook endpoint ${id}`);
      const answer = await api(c).updateWebhook(id, { enabled });
      return done(
        c,
        `/admin/sites/${site}/webhooks`,
        outcome(answer, (e) => `Webhook endpoint ${e.id} is ${enabled ? "enabled" : "disabled: nothing is sent to it"}.`),
      );
    });
  }

  for (const [action, question, button] of [
    [
      "rotate",
      `It gets a new signing secret, shown once; the current one keeps signing beside it for ${PREVIOUS_SECRET_HOURS} hours, so the receiver can switch.`,
      "Rotate the secret",
    ],
    ["delete", "It and its delivery log are deleted; nothing more is sent to it. This cannot be undone.", "Delete the endpoint"],
  ] as const) {
    app.get(`/sites/:site/webhooks/:id/${action}`, async (c) => {
      const { site, id } = c.req.param();
      const endpoint = await endpointOfSite(c, id);
      if (!endpoint) return notOfSite(c, `webhook endpoint ${id}`);
      return c.html(
        <Confirm
          title={`${action === "rotate" ? "Rotate the secret of" : "Delete"} the webhook endpoint ${endpoint.url}?`}
          session={c.get("session")}
          site={site}
          current="webhooks"
          question={question}
          action={`/admin/sites/${site}/webhooks/${id}/${action}`}
          button={button}
          back={`/admin/sites/${site}/webhooks`}
        />,
      );
    });
  }

  app.post("/sites/:site/webhooks/:id/rotate", async (c) => {
    const { site, id } = c.req.param();
    if (!(await endpointOfSite(c, id))) return notOfSite(c, `webhook endpoint ${id}`);
    const answer = await api(c).rotateWebhook(id);
    return done(c, `/admin/sites/${site}/webhooks`, {
      ...outcome(answer, (e) => `Rotated the secret of ${e.id}; the previous one signs beside it until ${e.previousSecretExpiresAt} UTC.`),
      ...(answer.ok ? { secret: answer.data.secret } : {}),
    });
  });

  app.post("/sites/:site/webhooks/:id/delete", async (c) => {
    const { site, id } = c.req.param();
    if (!(await endpointOfSite(c, id))) return notOfSite(c, `webhook endpoint ${id}`);
    const answer = await api(c).deleteWebhook(id);
    return done(
      c,
      `/admin/sites/${site}/webhooks`,
      outcome(answer, () => `Deleted webhook endpoint ${id}.`),
    );
  });

  app.get("/sites/:site/webhooks/:id", async (c) => {
    const { site, id } = c.req.param();
    const session = c.get("session");
    const endpoint = await endpointOfSite(c, id);
    if (!endpoint) return notOfSite(c, `webhook endpoint ${id}`);
    const stateFilter = c.req.query("state");
    const cursor = c.req.query("cursor");
    const answer = await api(c).listDeliveries(id, { state: stateFilter || undefined, cursor: cursor || undefined, limit: 50 });
    const deliveries = answer.ok ? answer.data.deliveries : [];
    const base = `/admin/sites/${site}/webhooks/${id}`;
    return c.html(
      <Page title={`Webhook endpoint ${endpoint.url}`} session={session} site={site} current="webhooks" answer={answer}>
        <p>
          <a href={`/admin/sites/${site}/webhooks`}>All endpoints</a>
        </p>
        <Details
          id="endpoint"
          rows={[
            ["Id", <code>{endpoint.id}</code>],
            ["URL", endpoint.url],
            ["Events", endpoint.events.join(", ")],
            ["Description", endpoint.description ?? ""],
            ["State", state(endpoint)],
            ["Secret starts with", `${endpoint.secretPrefix}…`],
          ]}
        />
        <h2>Deliveries</h2>
        <nav aria-label="Deliveries by state" class="site">
          {["", "pending", "delivered", "failed", "skipped"].map((s) => (
            <a href={s ? `${base}?state=${s}` : base} aria-current={(stateFilter ?? "") === s ? "page" : undefined}>
              {s || "all"}
            </a>
          ))}
        </nav>
        <Table
          id="deliveries"
          empty="No deliveries yet."
          headers={["Event", "webhook-id", "State", "Attempts", "Last status", "Last attempt (UTC)", "Next attempt", "Error", "Actions"]}
          alerts={deliveries.map((d) => d.state === "failed" || d.state === "skipped")}
          rows={deliveries.map((d) => [
            <a href={`${base}/deliveries/${d.id}`}>{d.eventType}</a>,
            <code>{d.eventId}</code>,
            d.state,
            d.attempts,
            d.lastStatus ?? "-",
            d.lastAttemptAt ? <Time utc={d.lastAttemptAt} /> : "-",
            d.nextAttemptAt ? <Time utc={d.nextAttemptAt} /> : "",
            d.lastError ?? "",
            <Form action={`${base}/deliveries/${d.id}/redeliver`} session={session} inline label={`Redeliver ${d.id}`}>
              <button type="submit">Redeliver</button>
            </Form>,
          ])}
        />
        {answer.ok && answer.data.nextCursor ? (
          <p>
            <a href={`${base}?${new URLSearchParams({ ...(stateFilter ? { state: stateFilter } : {}), cursor: answer.data.nextCursor })}`}>
              Older deliveries
            </a>
          </p>
        ) : null}
      </Page>,
    );
  });

  app.get("/sites/:site/webhooks/:id/deliveries/:delivery", async (c) => {
    const { site, id, delivery } = c.req.param();
    const session = c.get("session");
    if (!(await endpointOfSite(c, id))) return notOfSite(c, `webhook endpoint ${id}`);
    const answer = await api(c).getDelivery(id, delivery);
    if (!answer.ok && answer.status === 404) return notOfSite(c, `delivery ${delivery}`);
    const d = answer.ok ? answer.data : undefined;
    const base = `/admin/sites/${site}/webhooks/${id}`;
    return c.html(
      <Page title={`Delivery of ${d?.eventType ?? "an event"}`} session={session} site={site} current="webhooks" answer={answer}>
        <p>
          <a href={base}>All deliveries of this endpoint</a>
        </p>
        {d ? (
          <>
            <Details
              id="delivery"
              rows={[
                ["webhook-id", <code>{d.eventId}</code>],
                ["State", d.state],
                ["Attempts", `${d.attempts} (round ${d.round})`],
                ["Next attempt (UTC)", d.nextAttemptAt ? <Time utc={d.nextAttemptAt} /> : "-"],
              ]}
            />
            <Form action={`${base}/deliveries/${d.id}/redeliver`} session={session} label="Redeliver">
              <button type="submit">Redeliver now</button>
            </Form>
            <h2>Attempts</h2>
            <Table
              id="attempts"
              empty="Not attempted yet."
              headers={["#", "Round", "At (UTC)", "Status", "Duration", "Error", "Answer"]}
              alerts={d.attemptLog.map((a) => a.status === null || a.status < 200 || a.status >= 300)}
              rows={d.attemptLog.map((a) => [
                a.number,
                a.round,
                <Time utc={a.at} />,
                a.status ?? "none",
                `${a.durationMs} ms`,
                a.error ?? "",
                a.response ?? "",
              ])}
            />
            <h2>Payload</h2>
            <pre id="payload">{JSON.stringify(d.payload, null, 2)}</pre>
          </>
        ) : null}
      </Page>,
    );
  });

  app.post("/sites/:site/webhooks/:id/deliveries/:delivery/redeliver", async (c) => {
    const { site, id, delivery } = c.req.param();
    if (!(await endpointOfSite(c, id))) return notOfSite(c, `webhook endpoint ${id}`);
    const answer = await api(c).redeliver(id, delivery);
    return done(
      c,
      `/admin/sites/${site}/webhooks/${id}/deliveries/${delivery}`,
      outcome(answer, (d) => `Redelivering ${d.eventType} ${d.eventId} now (round ${d.round}).`),
    );
  });
}
