import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countActive } from "../src/db/permits/reads";
import { adminCall, call, newSite, post, queryPlans, seedPush } from "./helpers";

const OC = "/api/OC-TOMA/v1/permits";
type Body = Record<string, unknown>;

const wire = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000).toISOString().slice(0, 19);

async function push(token: string, overrides: Body) {
  const res = await post(`${OC}/push`, {
    ...seedPush(token),
    permitNo: crypto.randomUUID(),
    startTime: wire(-3600),
    endTime: wire(3600),
    ...overrides,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { reference_id: string }).reference_id;
}

async function stats(token: string, zones?: string) {
  const res = await post(`${OC}/stats`, zones === undefined ? { apiToken: token } : { apiToken: token, zones });
  const json = (await res.json()) as { data: { type: string; zone: string; total: string }[]; unknown_zones?: string[] };
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

/** A site with a realistic mix: active, expired, future, deleted and disconnected records, and standard permits. */
async function busySite() {
  const site = await newSite({ zones: ["Lot 01", "Lot 02", "Lot 03"] });
  const { token, slug } = site;
  for (let i = 0; i < 3; i++) await push(token, { zone: "Lot 01" });
  await push(token, { zone: "Lot 02" });
  await push(token, { zone: "Lot 01", startTime: wire(-7200), endTime: wire(-3600) }); // expired
  await push(token, { zone: "Lot 01", startTime: wire(3600), endTime: wire(7200) }); // future
  await push(token, { zone: "Lot 99" }); // disconnected
  const gone = await push(token, { zone: "Lot 01" });
  await post(`${OC}/delete`, { apiToken: token, referenceID: gone });
  const res = await adminCall("POST", `/sites/${slug}/permits`, {
    permits: [
      { plate: "STD1", zone: "Lot 01", startTime: wire(-86400), endTime: wire(86400 * 30), permitNo: "F-1" },
      { plate: "STD2", zone: "Lot 01", startTime: wire(-86400), endTime: wire(86400 * 30), permitNo: "F-2" },
      { plate: "STD3", zone: "Lot 02", startTime: wire(-86400 * 60), endTime: wire(-86400), permitNo: "F-3" }, // expired
    ],
  });
  expect(res.status).toBe(201);
  return site;
}

describe("stats", () => {
  it("counts active permits per lot zone and type, every zone of the site without `zones`", async () => {
    const { token } = await busySite();
    expect((await stats(token)).data).toEqual([
      { type: "standard", zone: "Lot 01", total: "2" },
      { type: "temp", zone: "Lot 01", total: "3" },
      { type: "standard", zone: "Lot 02", total: "0" },
      { type: "temp", zone: "Lot 02", total: "1" },
      { type: "standard", zone: "Lot 03", total: "0" },
      { type: "temp", zone: "Lot 03", total: "0" },
    ]);
  });

  it("takes the seed's comma list, trimming spaces, in the order asked", async () => {
    const { token } = await busySite();
    const json = await stats(token, " Lot 02 , Lot 01");
    expect(json.data).toEqual([
      { type: "standard", zone: "Lot 02", total: "0" },
      { type: "temp", zone: "Lot 02", total: "1" },
      { type: "standard", zone: "Lot 01", total: "2" },
      { type: "temp", zone: "Lot 01", total: "3" },
    ]);
    expect(json.unknown_zones).toBeUndefined();
  });

  it("names requested zones that are not lot zones, and never counts disconnected records", async () => {
    const { token } = await busySite();
    const json = await stats(token, "Lot 99,Lot 03");
    expect(json.data).toEqual([
      { type: "standard", zone: "Lot 03", total: "0" },
      { type: "temp", zone: "Lot 03", total: "0" },
    ]);
    expect(json.unknown_zones).toEqual(["Lot 99"]);
  });

  it("needs the stats scope, and is per site", async () => {
    const { token } = await newSite({ scopes: ["push"] });
    const res = await post(`${OC}/stats`, { apiToken: token });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ ErrorCode: 9002 });
    const busy = await busySite();
    const quiet = await newSite({ zones: ["Lot 01"] });
    expect((await stats(quiet.token)).data.every((r) => r.total === "0")).toBe(true);
    expect((await stats(busy.token, "Lot 01")).data[1]?.total).toBe("3");
  });

  it("answers a site with thousands of zones (zone ids travel as one JSON parameter)", async () => {
    const { token, slug } = await newSite({ zones: [] });
    const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(slug).first<{ id: number }>())?.id;
    await env.DB.prepare(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) INSERT INTO lot_zones (site_id, name, created_at) SELECT ?, 'Z' || i, 0 FROM n",
    )
      .bind(siteId)
      .run();
    await push(token, { zone: "Z1500" });
    const json = await stats(token);
    expect(json.data).toHaveLength(3000);
    expect(json.data.find((r) => r.zone === "Z1500" && r.type === "temp")?.total).toBe("1");
  });

  it("uses the covering index for the count, in its order (no sort)", async () => {
    const [count] = await queryPlans((d1) => countActive(d1, 1, [1, 2], 5));
    expect(count?.plan).toMatch(/USING COVERING INDEX permits_zone_live \(site_id=\? AND lot_zone_id=\? AND end_at>\?\)/);
    expect(count?.plan).not.toMatch(/TEMP B-TREE/);
  });
});

describe("plate lookup", () => {
  async function lookup(token: string, query: string, header: "bearer" | "key" = "bearer") {
    const headers: Record<string, string> = header === "bearer" ? { authorization: `Bearer ${token}` } : { "x-api-key": token };
    return call(`/api/v1/lookup?${query}`, { headers });
  }

  it("finds the active permits of a plate however it is spelled", async () => {
    const { token } = await busySite();
    const ref = await push(token, { LicencePlate: "ab-c 123", zone: "Lot 02" });
    for (const spelling of ["ABC123", "abc123", "ABC-123", "a b c 1 2 3", "abc.123"]) {
      const res = await lookup(token, `plate=${encodeURIComponent(spelling)}`);
      const json = (await res.json()) as Body & { permits: Body[] };
      expect(res.status, spelling).toBe(200);
      expect(json).toMatchObject({ normalized: "ABC123", active: true, zone: null });
      expect(json.permits).toEqual([
        {
          reference_id: ref,
          type: "temp",
          source: "push",
          plate: "ab-c 123",
          plateState: null,
          zone: "Lot 02",
          disconnected: false,
          start: expect.any(String),
          end: expect.any(String),
          matchedPlate: "ABC123",
          match: "exact",
          expiredWithinGrace: false,
        },
      ]);
    }
  });

  it("narrows to one lot zone, and says no for expired, future and deleted permits", async () => {
    const { token } = await newSite({ zones: ["Lot 01", "Lot 02"] });
    await push(token, { LicencePlate: "ZONE1", zone: "Lot 01" });
    expect(((await (await lookup(token, "plate=ZONE1&zone=Lot%2001")).json()) as Body).active).toBe(true);
    expect(((await (await lookup(token, "plate=ZONE1&zone=Lot%2002")).json()) as Body).active).toBe(false);
    // Ended 20 minutes ago: past the default 15-minute grace period.
    await push(token, { LicencePlate: "OLD1", startTime: wire(-7200), endTime: wire(-1200) });
    await push(token, { LicencePlate: "SOON1", startTime: wire(600), endTime: wire(7200) });
    const gone = await push(token, { LicencePlate: "GONE1" });
    await post(`${OC}/delete`, { apiToken: token, referenceID: gone });
    for (const plate of ["OLD1", "SOON1", "GONE1", "NEVER1"]) {
      expect(await (await lookup(token, `plate=${plate}`)).json(), plate).toMatchObject({ active: false, permits: [] });
    }
  });

  it("includes disconnected records, marked, when no zone is asked", async () => {
    const { token } = await newSite({ zones: [] });
    await push(token, { LicencePlate: "DISC1", zone: "Street 5" });
    const json = (await (await lookup(token, "plate=DISC1", "key")).json()) as { permits: Body[] };
    expect(json.permits[0]).toMatchObject({ zone: "Street 5", disconnected: true });
  });

  it("sees standard permits and is per site", async () => {
    const busy = await busySite();
    expect((await (await lookup(busy.token, "plate=std1")).json()) as Body).toMatchObject({
      active: true,
      permits: [{ type: "standard", source: "admin" }],
    });
    const other = await newSite();
    expect((await (await lookup(other.token, "plate=STD1")).json()) as Body).toMatchObject({ active: false });
  });

  it("refuses bad input and bad tokens with the one error shape", async () => {
    const { token } = await newSite({ scopes: ["push"] });
    const res = await lookup(token, "plate=ABC");
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ ErrorCode: 9002 });
    expect(await (await call("/api/v1/lookup?plate=ABC")).json()).toMatchObject({ ErrorCode: 9001, field: "Authorization" });
    expect((await lookup("pe-nope", "plate=ABC")).status).toBe(401);
    const good = await newSite();
    expect(await (await lookup(good.token, "plate=***")).json()).toMatchObject({ ErrorCode: 9033, field: "plate" });
    expect(await (await lookup(good.token, "plate=")).json()).toMatchObject({ ErrorCode: 9032, field: "plate" });
    expect(await (await lookup(good.token, "zone=Lot%2001")).json()).toMatchObject({
      ErrorCode: 9031,
      field: "plate",
      ErrorMessage: "plate is required.",
    });
    expect(await (await lookup(good.token, `plate=${"A".repeat(26)}`)).json()).toMatchObject({ ErrorCode: 9030, field: "plate" });
    expect(await (await lookup(good.token, "plate=ABC&zone=Nowhere")).json()).toMatchObject({ ErrorCode: 9033, field: "zone" });
  });

  it("answers with one indexed query", async () => {
    const plan = await env.DB.prepare(
      "EXPLAIN QUERY PLAN SELECT p.id FROM permits p LEFT JOIN lot_zones z ON z.id = p.lot_zone_id WHERE p.site_id = 1 AND p.plate_norm = 'X' AND p.start_at <= 5 AND p.end_at > 5 AND p.deleted_at IS NULL",
    ).all<{ detail: string }>();
    expect(plan.results.map((r) => r.detail).join("\n")).toMatch(/permits_plate_active/);
  });
});
