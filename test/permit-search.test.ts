import { env } from "cloudflare:workers";
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { ADMIN, adminCall, call, newSite, post, pushed } from "./helpers";

// Pay Station Status as admins search it, and its CSV export.

type Body = Record<string, unknown>;
const wire = (offsetSeconds: number) => new Date(Date.now() + offsetSeconds * 1000).toISOString().slice(0, 19);

async function search(slug: string, query = "") {
  const res = await adminCall("GET", `/sites/${slug}/permits${query}`);
  const json = (await res.json()) as Body & { permits: Body[] };
  return { res, json };
}

/** A site with an active, an upcoming, an expired and a deleted permit. */
async function mixedSite() {
  const site = await newSite();
  const at = (start: number, end: number, permitNo: string, over: Body = {}) =>
    pushed(site.token, { permitNo, startTime: wire(start), endTime: wire(end), ...over });
  const active = await at(-600, 3600, "ACTIVE");
  const upcoming = await at(3600, 7200, "UPCOMING");
  const expired = await at(-7200, -3600, "EXPIRED");
  const deleted = await at(-600, 3600, "DELETED");
  await post("/api/OC-TOMA/v1/permits/delete", { apiToken: site.token, referenceID: deleted });
  return { ...site, active, upcoming, expired, deleted };
}

describe("searching permits", () => {
  it("says where each permit stands, counts every match, and narrows to those active now", async () => {
    const site = await mixedSite();
    const { json } = await search(site.slug);
    expect(json.total).toBe(4);
    const status = Object.fromEntries(json.permits.map((p) => [p.permitNo, p.status]));
    expect(status).toEqual({ ACTIVE: "active", UPCOMING: "upcoming", EXPIRED: "expired", DELETED: "deleted" });
    const active = await search(site.slug, "?active=true");
    expect(active.json).toMatchObject({ total: 1, hasMore: false, permits: [{ reference_id: site.active }] });
  });

  it("pages 50 at a time with the total on every page", async () => {
    const { slug, token } = await newSite();
    for (let i = 0; i < 55; i++) await pushed(token, { permitNo: `P-${i}` });
    const first = await search(slug);
    expect(first.json).toMatchObject({ page: 1, total: 55, hasMore: true });
    expect(first.json.permits).toHaveLength(50);
    const second = await search(slug, "?page=2");
    expect(second.json).toMatchObject({ page: 2, total: 55, hasMore: false });
    expect(second.json.permits).toHaveLength(5);
  });

  it("refuses a filter that can match nothing, naming it, rather than answering an empty page", async () => {
    const { slug } = await mixedSite();
    const cases: [string, string, number?][] = [
      ["?source=bogus", "source"],
      ["?zone=Nowhere", "zone"],
      ["?plate=***", "plate"],
      ["?plate=---", "plate", 9032],
      ["?type=bogus", "type"],
      ["?active=maybe", "active"],
      ["?active=false", "active"],
      ["?from=2026-02-30T00:00:00", "from"],
    ];
    for (const [query, field, code = 9033] of cases) {
      const { res, json } = await search(slug, query);
      expect(res.status, query).toBe(400);
      expect(json, query).toMatchObject({ ErrorCode: code, field });
    }
  });

  it("finds by a lot zone's name or number, and by a disconnected zone name, deleted records included", async () => {
    const { slug, token } = await newSite();
    expect((await adminCall("PATCH", `/sites/${slug}/zones/Lot%204`, { number: "104" })).status).toBe(200);
    await pushed(token, { permitNo: "IN4", zone: "Lot 4" });
    const gone = await pushed(token, { permitNo: "GONE", zone: "Lot 98" });
    await post("/api/OC-TOMA/v1/permits/delete", { apiToken: token, referenceID: gone });
    expect((await search(slug, "?zone=Lot%204")).json).toMatchObject({ total: 1, permits: [{ permitNo: "IN4" }] });
    expect((await search(slug, "?zone=104")).json).toMatchObject({ total: 1, permits: [{ permitNo: "IN4" }] });
    expect((await search(slug, "?zone=Lot%2098")).json).toMatchObject({ total: 1, permits: [{ permitNo: "GONE", status: "deleted" }] });
  });

  it("counts up to 10,000 matches and shows pages up to the 200th; past that, the export", async () => {
    const { slug } = await newSite();
    const siteId = (await env.DB.prepare("SELECT id FROM sites WHERE slug = ?").bind(slug).first<{ id: number }>())?.id as number;
    await env.DB.prepare(
      `WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 10049)
       INSERT INTO permits (id, site_id, type, source, plate, plate_norm, start_at, end_at, version, created_at, updated_at)
       SELECT printf('many%d-%05d', ?1, i), ?1, 'temp', 'push', 'M' || i, 'M' || i, 1000 + i, 5000 + i, 1, 1, 1 FROM k`,
    )
      .bind(siteId)
      .run();
    expect((await search(slug)).json).toMatchObject({ total: 10_000, totalIsExact: false, hasMore: true });
    expect((await search(slug, "?source=push&plate=M7")).json).toMatchObject({ total: 1, totalIsExact: true });
    const last = await search(slug, "?page=200");
    expect(last.json).toMatchObject({ page: 200, hasMore: false });
    expect(last.json.permits).toHaveLength(50);
    const past = await search(slug, "?page=201");
    expect(past.res.status).toBe(400);
    expect(past.json).toMatchObject({ ErrorCode: 9030, field: "page" });
  });

  it("finds by a disconnected zone name and by a source", async () => {
    const { slug, token } = await newSite();
    await pushed(token, { permitNo: "LOST", zone: "Lot 99" });
    expect((await search(slug, "?zone=Lot%2099")).json).toMatchObject({ total: 1, permits: [{ permitNo: "LOST", disconnected: true }] });
    expect((await search(slug, "?source=push")).json.total).toBe(1);
    expect((await search(slug, "?source=ParkMobile")).json.total).toBe(0);
  });
});

describe("exporting a search as CSV", () => {
  it("writes every match, RFC 4180, with spreadsheet formulas defused", async () => {
    const { slug, token } = await newSite();
    await pushed(token, { permitNo: "PLAIN" });
    await pushed(token, { permitNo: "QUOTE", promoCode: 'say "hi", ok' });
    await pushed(token, { permitNo: "FORMULA", promoCode: "=HYPERLINK(1)" });
    const res = await adminCall("GET", `/sites/${slug}/permits/export`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toContain(`${slug}-pay-station-status.csv`);
    const text = await res.text();
    expect(text.split("\r\n")[0]).toBe(
      "reference,type,status,source,plate,plate normalized,zone,disconnected,start (UTC),end (UTC),amount,currency,permit no,ticket number,promo code,deleted at (UTC)",
    );
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r["permit no"]).sort()).toEqual(["FORMULA", "PLAIN", "QUOTE"]);
    const byNo = Object.fromEntries(rows.map((r) => [r["permit no"], r]));
    expect(byNo.QUOTE?.["promo code"]).toBe('say "hi", ok');
    expect(byNo.FORMULA?.["promo code"]).toBe("'=HYPERLINK(1)");
    expect(byNo.PLAIN).toMatchObject({ plate: "PL8RDR", amount: "14.50", currency: "CAD", zone: "Lot 4", status: "expired" });
  });

  it("streams a site of more rows than one read, each row once, newest start first", async () => {
    const { slug } = await newSite();
    const permits = Array.from({ length: 1200 }, (_, i) => ({
      plate: `EXP${i}`,
      zone: "Lot 4",
      startTime: new Date(Date.UTC(2026, 0, 1) + (i % 300) * 60_000).toISOString().slice(0, 19),
      endTime: "2027-01-01T00:00:00",
      permitNo: `E-${i}`,
    }));
    expect((await adminCall("POST", `/sites/${slug}/permits`, { permits })).status).toBe(201);
    const text = await (await adminCall("GET", `/sites/${slug}/permits/export?type=standard`)).text();
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(1200);
    expect(new Set(rows.map((r) => r.reference)).size).toBe(1200);
    const starts = rows.map((r) => r["start (UTC)"] as string);
    expect([...starts].sort().reverse()).toEqual(starts);
  });

  it("needs the admin secret like any admin call", async () => {
    expect((await call("/api/admin/v1/sites/demo/permits/export")).status).toBe(401);
    expect((await call("/api/admin/v1/sites/nope/permits/export", { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(404);
  });
});
