import { describe, expect, it } from "vitest";
import { amountAtRate, minutesBetween, sessionStatus, sessionTransactions } from "../src/domain/session";
import { zoneByKey } from "../src/domain/site";
import { canonicalTimeZone, formatRfc3339, parseRfc3339 } from "../src/domain/time";
import { adminCall, call, consoleSignIn, consoleSubmit, count, newSite } from "./helpers";

// What an aggregator needs of a lot zone (number, rate, longest session, time zone, capacity), set by admins through
// the API and the console; how a zone is found by its number; and the pure rules sessions rest on.

type Body = Record<string, unknown>;

async function zoneError(method: string, path: string, body: unknown, status: number, code: number, field?: string) {
  const before = await count("lot_zones");
  const res = await adminCall(method, path, body);
  const json = (await res.json()) as Body;
  expect(json, JSON.stringify(body)).toMatchObject({ ErrorCode: code, ...(field ? { field } : {}) });
  expect(res.status).toBe(status);
  expect(await count("lot_zones")).toBe(before);
  return json;
}

describe("admin: a zone's metadata", () => {
  it("is set at creation or later, shown, and cleared with null", async () => {
    const { slug } = await newSite({ zones: [], currencies: ["USD", "CAD"] });
    const created = await adminCall("POST", `/sites/${slug}/zones`, { name: "Downtown", number: "4410", ratePerHour: 2, capacity: 40 });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({
      id: expect.any(Number),
      name: "Downtown",
      number: "4410",
      // A rate without a currency is in the site's first one.
      ratePerHour: "2.00",
      currency: "USD",
      maxMinutes: null,
      timeZone: null,
      capacity: 40,
      createdAt: expect.any(String),
      reconnected: 0,
    });
    const patched = await adminCall("PATCH", `/sites/${slug}/zones/Downtown`, {
      currency: "cad",
      maxMinutes: 90,
      timeZone: "europe/paris",
    });
    expect(await patched.json()).toMatchObject({
      number: "4410",
      ratePerHour: "2.00",
      currency: "CAD",
      maxMinutes: 90,
      timeZone: "Europe/Paris",
    });
    const cleared = await adminCall("PATCH", `/sites/${slug}/zones/Downtown`, { number: null, ratePerHour: null, capacity: null });
    expect(await cleared.json()).toMatchObject({ number: null, ratePerHour: null, currency: null, capacity: null, maxMinutes: 90 });
    const list = (await (await adminCall("GET", `/sites/${slug}/zones`)).json()) as { zones: Body[] };
    expect(list.zones[0]).toMatchObject({ name: "Downtown", number: null, timeZone: "Europe/Paris" });
  });

  it("refuses bad values, naming the field, writing nothing", async () => {
    const { slug } = await newSite({ zones: ["Lot 4"] });
    const path = `/sites/${slug}/zones/Lot%204`;
    const cases: [Body, number, string][] = [
      [{ number: "" }, 9033, "number"],
      [{ number: "44 10" }, 9033, "number"],
      [{ number: "x".repeat(21) }, 9033, "number"],
      [{ ratePerHour: "2.5" }, 9033, "ratePerHour"],
      [{ ratePerHour: 0 }, 9033, "ratePerHour"],
      [{ ratePerHour: true }, 9033, "ratePerHour"],
      [{ currency: "EUR" }, 9033, "currency"],
      [{ currency: "CA" }, 9033, "currency"],
      [{ currency: "USD" }, 9033, "currency"],
      [{ maxMinutes: 0 }, 9032, "maxMinutes"],
      [{ maxMinutes: 10081 }, 9030, "maxMinutes"],
      [{ maxMinutes: 1.5 }, 9033, "maxMinutes"],
      [{ timeZone: "Mars/Olympus" }, 9033, "timeZone"],
      [{ timeZone: "+05:00" }, 9033, "timeZone"],
      [{ capacity: -1 }, 9032, "capacity"],
      [{}, 9033, "body"],
    ];
    for (const [body, code, field] of cases) {
      const before = JSON.stringify(await (await adminCall("GET", `/sites/${slug}/zones`)).json());
      await zoneError("PATCH", path, body, 400, code, field);
      expect(JSON.stringify(await (await adminCall("GET", `/sites/${slug}/zones`)).json())).toBe(before);
    }
  });

  it("keeps every zone findable by one key: a number or a name no other zone answers to (9022)", async () => {
    const { slug } = await newSite({ zones: ["Lot 4", "4411"] });
    expect((await adminCall("PATCH", `/sites/${slug}/zones/Lot%204`, { number: "104" })).status).toBe(200);
    // Another zone's number, or the name of a zone without a number.
    await zoneError("POST", `/sites/${slug}/zones`, { name: "Other", number: "104" }, 409, 9022, "number");
    await zoneError("POST", `/sites/${slug}/zones`, { name: "Other", number: "4411" }, 409, 9022, "number");
    // A name that another zone has as its number, for a zone without one.
    await zoneError("POST", `/sites/${slug}/zones`, { name: "104" }, 409, 9022, "name");
    const renamed = await adminCall("PATCH", `/sites/${slug}/zones/4411`, { name: "104" });
    expect(renamed.status).toBe(409);
    // Clearing Lot 4's number would make it answer to "Lot 4", which no one else does: fine. Then "104" is free.
    expect((await adminCall("PATCH", `/sites/${slug}/zones/Lot%204`, { number: null })).status).toBe(200);
    expect((await adminCall("POST", `/sites/${slug}/zones`, { name: "104" })).status).toBe(201);
    // A zone may keep its own number when renamed, and a numbered zone may be named like its number.
    expect((await adminCall("PATCH", `/sites/${slug}/zones/4411`, { number: "4411", name: "East" })).status).toBe(200);
    expect((await adminCall("PATCH", `/sites/${slug}/zones/East`, { name: "4411" })).status).toBe(200);
  });
});

describe("console: a zone's details page", () => {
  it("saves the number, rate and limits; a blank field clears; a bad one is shown and saves nothing", async () => {
    const { slug } = await newSite({ zones: ["Lot 4"] });
    const { session: cookie } = await consoleSignIn();
    // The console finds a zone by its name (URL-encoded).
    const id = "Lot%204";
    const page = await (await call(`/admin/sites/${slug}/zones/${id}`, { headers: { cookie } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] as string;
    expect(page).toContain('name="ratePerHour"');
    const fields = {
      _csrf: csrf,
      name: "Lot 4",
      number: "104",
      ratePerHour: "2.50",
      currency: "",
      maxMinutes: "240",
      timeZone: "America/Toronto",
      capacity: "",
    };
    const saved = await consoleSubmit(`/admin/sites/${slug}/zones/${id}`, cookie, fields);
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe(`/admin/sites/${slug}/zones`);
    const list = await (await call(`/admin/sites/${slug}/zones`, { headers: { cookie } })).text();
    expect(list).toContain("Saved lot zone Lot 4");
    expect(list).toMatch(/<td[^>]*>104<\/td>/);
    expect(list).toContain("2.50 CAD");
    const bad = await consoleSubmit(`/admin/sites/${slug}/zones/${id}`, cookie, { ...fields, maxMinutes: "lots" });
    expect(bad.headers.get("location")).toBe(`/admin/sites/${slug}/zones/${id}`);
    expect(await (await call(`/admin/sites/${slug}/zones/${id}`, { headers: { cookie } })).text()).toMatch(
      /role="alert">maxMinutes must be a number/,
    );
    const after = (await (await adminCall("GET", `/sites/${slug}/zones`)).json()) as { zones: Body[] };
    expect(after.zones[0]).toMatchObject({ number: "104", maxMinutes: 240, capacity: null });
  });
});

describe("console: OAuth clients page", () => {
  it("registers a client showing its secret once, rotates and revokes it", async () => {
    const { slug } = await newSite();
    const { session: cookie } = await consoleSignIn();
    const html = async () => (await call(`/admin/sites/${slug}/clients`, { headers: { cookie } })).text();
    const first = await html();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(first)?.[1] as string;
    const post = (path: string, body: URLSearchParams) => consoleSubmit(path, cookie, body);
    const form = new URLSearchParams([
      ["_csrf", csrf],
      ["label", "ParkOnce"],
      ["scopes", "sessions"],
      ["scopes", "lookup"],
    ]);
    expect((await post(`/admin/sites/${slug}/clients`, form)).status).toBe(303);
    const shown = await html();
    const secret = /<output id="new-secret">(cs-[A-Za-z0-9]+)<\/output>/.exec(shown)?.[1];
    expect(secret).toBeDefined();
    expect(shown).toMatch(/Registered OAuth client ParkOnce: client_id oc_/);
    // Once: the next page no longer shows it.
    expect(await html()).not.toContain(secret as string);
    const clientId = /<td[^>]*>(oc_[0-9a-z]{16})<\/td>/.exec(shown)?.[1] as string;
    expect((await post(`/admin/sites/${slug}/clients/${clientId}/rotate`, new URLSearchParams({ _csrf: csrf }))).status).toBe(303);
    const rotated = /<output id="new-secret">(cs-[A-Za-z0-9]+)<\/output>/.exec(await html())?.[1];
    expect(rotated).toBeDefined();
    expect(rotated).not.toBe(secret);
    expect((await post(`/admin/sites/${slug}/clients/${clientId}/revoke`, new URLSearchParams({ _csrf: csrf }))).status).toBe(303);
    expect(await html()).toMatch(/revoked <time[^>]*>\d{4}-/);
    const none = new URLSearchParams([
      ["_csrf", csrf],
      ["label", "X"],
    ]);
    await post(`/admin/sites/${slug}/clients`, none);
    expect(await html()).toMatch(/role="alert">Choose at least one scope/);
  });
});

describe("the rules sessions rest on", () => {
  it("a zone is found by its number, else by the name of a zone without one", () => {
    const zones = [
      { id: 1, number: null, name: "4410" },
      { id: 2, number: "4410", name: "Downtown" },
      { id: 3, number: null, name: "Lot 4" },
      { id: 4, number: "7", name: "Seven" },
    ];
    expect(zoneByKey(zones, "4410")?.id).toBe(2);
    expect(zoneByKey(zones, "Lot 4")?.id).toBe(3);
    expect(zoneByKey(zones, "Seven")).toBeUndefined();
    expect(zoneByKey(zones, "Downtown")).toBeUndefined();
  });

  it("rates round up to the cent; minutes count a started minute whole", () => {
    expect(amountAtRate(250, 25)).toBe(105);
    expect(amountAtRate(250, 60)).toBe(250);
    expect(amountAtRate(100, 1)).toBe(2);
    expect(amountAtRate(99_999_999, 10080)).toBeGreaterThan(99_999_999);
    expect(minutesBetween(0, 61)).toBe(2);
    expect(minutesBetween(0, 60)).toBe(1);
    expect(minutesBetween(10, 10)).toBe(0);
  });

  it("status comes from the clock; only stopped is stored", () => {
    expect(sessionStatus({ stoppedAt: null, endAt: 100 }, 99)).toBe("active");
    expect(sessionStatus({ stoppedAt: null, endAt: 100 }, 100)).toBe("expired");
    expect(sessionStatus({ stoppedAt: 50, endAt: 50 }, 10)).toBe("stopped");
  });

  it("transactions from the history: start, extensions, the stop, other changes", () => {
    const t = sessionTransactions([
      { action: "create", at: 0, changes: { startAt: [null, 0], endAt: [null, 600], amountCents: [null, 50] } },
      { action: "update", at: 10, changes: { endAt: [600, 900], amountCents: [50, 75] } },
      { action: "update", at: 20, changes: { plate: ["A", "B"] } },
      { action: "update", at: 30, changes: { endAt: [900, 800] } },
      { action: "update", at: 40, changes: { endAt: [800, 40], stoppedAt: [null, 40] } },
    ]);
    expect(t).toEqual([
      { type: "start", at: 0, endAt: 600, minutes: 10, amountCents: 50 },
      { type: "extend", at: 10, endAt: 900, minutes: 5, amountCents: 25 },
      { type: "update", at: 20, endAt: 900, minutes: null, amountCents: null },
      { type: "update", at: 30, endAt: 800, minutes: null, amountCents: null },
      { type: "stop", at: 40, endAt: 40, minutes: null, amountCents: null },
    ]);
  });

  it("RFC 3339 times: an offset is required; answers are UTC with Z", () => {
    expect(parseRfc3339("2026-11-22T10:00:00Z")).toBe(Date.UTC(2026, 10, 22, 10) / 1000);
    expect(parseRfc3339("2026-11-22T10:00:00.123+02:30")).toBe(Date.UTC(2026, 10, 22, 7, 30) / 1000);
    expect(parseRfc3339("2026-11-22T10:00:00-05:00")).toBe(Date.UTC(2026, 10, 22, 15) / 1000);
    for (const bad of ["2026-11-22T10:00:00", "2026-02-30T10:00:00Z", "2026-11-22 10:00:00Z", "2026-11-22T10:00:00+24:00", "yesterday"]) {
      expect(parseRfc3339(bad), bad).toBeUndefined();
    }
    expect(formatRfc3339(0)).toBe("1970-01-01T00:00:00Z");
  });

  it("time zones are IANA names, canonicalized", () => {
    expect(canonicalTimeZone("america/toronto")).toBe("America/Toronto");
    expect(canonicalTimeZone("UTC")).toBe("UTC");
    expect(canonicalTimeZone("Mars/Olympus")).toBeUndefined();
    expect(canonicalTimeZone("+05:00")).toBeUndefined();
  });
});
