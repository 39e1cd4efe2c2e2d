import { describe, expect, it } from "vitest";
import { adminCall, consolePage, consoleSignIn, consoleSubmit, csrfOf, newSite, pushed } from "./helpers";
import { receivedWhen, registerEndpoint } from "./webhook-receiver";

// The console's Webhooks page, as an admin uses it: server-rendered, plain forms.

const html = async (path: string, session: string) => (await consolePage(path, session)).text();

type Json = Record<string, unknown>;
const endpointsOf = async (slug: string) =>
  ((await (await adminCall("GET", `/sites/${slug}/webhooks`)).json()) as { endpoints: Json[] }).endpoints;

describe("the console's Webhooks page", () => {
  it("registers an endpoint and shows its secret once; a refused form keeps what was typed", async () => {
    const { slug } = await newSite();
    const { session } = await consoleSignIn();
    const path = `/admin/sites/${slug}/webhooks`;
    const first = await html(path, session);
    expect(first).toContain('aria-current="page">Webhooks</a>');
    expect(first).toContain("No webhook endpoints yet.");
    const csrf = await csrfOf(path, session);

    await consoleSubmit(path, session, [
      ["_csrf", csrf],
      ["url", "https://10.0.0.1/hooks"],
      ["description", "Revenue"],
      ["events", "permit.created"],
    ]);
    const refused = await html(path, session);
    expect(refused).toMatch(/role="alert">url must not name a private address \(10\.0\.0\.1\)/);
    expect(refused).toContain('value="https://10.0.0.1/hooks"');
    expect(refused).toContain('value="Revenue"');
    expect(await endpointsOf(slug)).toEqual([]);

    await consoleSubmit(path, session, [
      ["_csrf", csrf],
      ["url", "https://ops.example.com/hooks"],
    ]);
    expect(await html(path, session)).toMatch(/role="alert">Choose at least one event/);

    const res = await consoleSubmit(path, session, [
      ["_csrf", csrf],
      ["url", "https://ops.example.com/hooks"],
      ["description", "Revenue"],
      ["events", "permit.created"],
      ["events", "session.started"],
    ]);
    expect(res.status).toBe(303);
    const shown = await html(path, session);
    const secret = /<output id="new-secret">(whsec_[^<]+)<\/output>/.exec(shown)?.[1];
    expect(secret).toMatch(/^whsec_/);
    expect(shown).toMatch(/role="status">Registered webhook endpoint wh_\w+ for permit\.created, session\.started/);
    const [endpoint] = await endpointsOf(slug);
    expect(endpoint).toMatchObject({
      url: "https://ops.example.com/hooks",
      events: ["permit.created", "session.started"],
      description: "Revenue",
    });
    // Once: the next page no longer has it.
    expect(await html(path, session)).not.toContain(secret as string);
  });

  it("disables and enables; rotating and deleting ask first, and the question changes nothing", async () => {
    const { slug } = await newSite();
    const { id, secret } = await registerEndpoint(slug);
    const { session } = await consoleSignIn();
    const path = `/admin/sites/${slug}/webhooks`;
    const csrf = await csrfOf(path, session);
    await consoleSubmit(`${path}/${id}/disable`, session, [["_csrf", csrf]]);
    expect(await html(path, session)).toContain("disabled");
    expect((await endpointsOf(slug))[0]).toMatchObject({ enabled: false, disabledReason: "manual" });
    await consoleSubmit(`${path}/${id}/enable`, session, [["_csrf", csrf]]);
    expect((await endpointsOf(slug))[0]).toMatchObject({ enabled: true });

    const question = await html(`${path}/${id}/rotate`, session);
    expect(question).toContain("Rotate the secret of the webhook endpoint");
    expect((await endpointsOf(slug))[0]?.secretPrefix).toBe(secret.slice(0, 10));
    await consoleSubmit(`${path}/${id}/rotate`, session, [["_csrf", csrf]]);
    const rotated = /<output id="new-secret">(whsec_[^<]+)<\/output>/.exec(await html(path, session))?.[1];
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);

    expect(await html(`${path}/${id}/delete`, session)).toContain("This cannot be undone.");
    expect(await endpointsOf(slug)).toHaveLength(1);
    await consoleSubmit(`${path}/${id}/delete`, session, [["_csrf", csrf]]);
    expect(await endpointsOf(slug)).toEqual([]);
  });

  it("lists an endpoint's deliveries, shows one with its attempts and payload, and redelivers it", async () => {
    const site = await newSite();
    const endpoint = await registerEndpoint(site.slug, { events: ["permit.created"] });
    await pushed(site.token);
    await receivedWhen(endpoint.path, (l) => l.length >= 1);
    const { session } = await consoleSignIn();
    const path = `/admin/sites/${site.slug}/webhooks/${endpoint.id}`;
    await expect.poll(async () => html(path, session)).toContain("delivered");
    const list = await html(path, session);
    const delivery = /deliveries\/(dl_[0-9a-f]{16})"/.exec(list)?.[1] as string;
    expect(delivery).toBeTruthy();
    const one = await html(`${path}/deliveries/${delivery}`, session);
    expect(one).toContain('<table id="attempts">');
    expect(one).toMatch(/<td data-label="Status">200<\/td>/);
    expect(one).toContain("&quot;type&quot;: &quot;permit.created&quot;");
    const csrf = await csrfOf(`${path}/deliveries/${delivery}`, session);
    expect((await consoleSubmit(`${path}/deliveries/${delivery}/redeliver`, session, [["_csrf", csrf]])).status).toBe(303);
    expect(await html(`${path}/deliveries/${delivery}`, session)).toMatch(
      /role="status">Redelivering permit\.created msg_\w+ now \(round 2\)/,
    );
    await receivedWhen(endpoint.path, (l) => l.length >= 2);
    await expect.poll(async () => (await html(`${path}/deliveries/${delivery}`, session)).match(/data-label="Round">2</g)?.length).toBe(1);
  });

  it("another site's endpoint is 404 under this site's path, and nothing is done to it", async () => {
    const mine = await newSite();
    const theirs = await newSite();
    const { id } = await registerEndpoint(theirs.slug);
    const { session } = await consoleSignIn();
    const csrf = await csrfOf(`/admin/sites/${mine.slug}/webhooks`, session);
    for (const path of [
      `/admin/sites/${mine.slug}/webhooks/${id}`,
      `/admin/sites/${mine.slug}/webhooks/${id}/rotate`,
      `/admin/sites/${mine.slug}/webhooks/${id}/delete`,
    ]) {
      expect((await consolePage(path, session)).status, path).toBe(404);
    }
    for (const action of ["disable", "rotate", "delete"]) {
      expect((await consoleSubmit(`/admin/sites/${mine.slug}/webhooks/${id}/${action}`, session, [["_csrf", csrf]])).status, action).toBe(
        404,
      );
    }
    const [endpoint] = await endpointsOf(theirs.slug);
    expect(endpoint).toMatchObject({ id, enabled: true, previousSecretExpiresAt: null });
  });
});
