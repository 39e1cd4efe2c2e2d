import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminCall, count, newSite, post } from "./helpers";

type Body = Record<string, unknown>;
const row = (over: Body = {}): Body => ({
  plate: "STD 1",
  zone: "Lot 4",
  startTime: "2026-09-01T00:00:00",
  endTime: "2027-04-30T23:59:59",
  permitNo: "F-1",
  ...over,
});

async function create(slug: string, permits: Body[]) {
  const res = await adminCall("POST", `/sites/${slug}/permits`, { permits });
  return { res, json: (await res.json()) as Body };
}

describe("standard permits (admin)", () => {
  it("creates one, typed standard, sourced admin, connected to its lot zone", async () => {
    const { slug } = await newSite();
    const { res, json } = await create(slug, [row()]);
    expect(res.status).toBe(201);
    expect(json).toMatchObject({ created: 1, skipped: 0 });
    const reference = (json.references as string[])[0] as string;
    const stored = await env.DB.prepare("SELECT * FROM permits WHERE id = ?").bind(reference).first<Body>();
    expect(stored).toMatchObject({
      type: "standard",
      source: "admin",
      plate: "STD 1",
      plate_norm: "STD1",
      permit_no: "F-1",
      lot_zone_id: expect.any(Number),
      version: 1,
    });
    expect(await count("permit_events", "permit_id = ? AND action = 'create' AND actor = 'admin'", reference)).toBe(1);
  });

  it("a push with a standard permit's number, plate and start is a permit of its own, not a retry of the standard one", async () => {
    const { slug, token } = await newSite();
    const standard = ((await create(slug, [row()])).json.references as string[])[0];
    const push = {
      apiToken: token,
      LicencePlate: "STD 1",
      zone: "Lot 4",
      permitNo: "F-1",
      startTime: "2026-09-01T00:00:00",
      endTime: "2026-09-01T02:00:00",
    };
    const first = (await (await post("/api/OC-TOMA/v1/permits/push", push)).json()) as Body;
    expect(first).toMatchObject({ status: "success" });
    expect(first.reference_id).not.toBe(standard);
    // Retried, the push finds its own record; an import of the standard row again still skips it.
    expect(((await (await post("/api/OC-TOMA/v1/permits/push", push)).json()) as Body).reference_id).toBe(first.reference_id);
    expect((await create(slug, [row()])).json).toMatchObject({ created: 0, skipped: 1 });
    expect(await count("permits", "site_id = (SELECT id FROM sites WHERE slug = ?) AND permit_no = 'F-1'", slug)).toBe(2);
  });

  it("imports many at once and skips rows already present, so a file imported twice creates nothing new", async () => {
    const { slug } = await newSite();
    const rows = Array.from({ length: 1200 }, (_, i) => row({ plate: `IMP${i}`, permitNo: i % 2 ? `N-${i}` : undefined }));
    expect((await create(slug, rows)).json).toMatchObject({ created: 1200, skipped: 0 });
    expect((await create(slug, rows)).json).toMatchObject({ created: 0, skipped: 1200 });
    expect(await count("permits p JOIN sites s ON s.id = p.site_id", "s.slug = ? AND p.type = 'standard'", slug)).toBe(1200);
  });

  it("is all or nothing: one bad row refuses the request, naming the row and field", async () => {
    const { slug } = await newSite();
    const before = await count("permits");
    const cases: [Body, number, string][] = [
      [row({ endTime: "2026-08-01T00:00:00" }), 9033, "permits.1.endTime"],
      [row({ startTime: "2026-02-30T00:00:00" }), 9033, "permits.1.startTime"],
      [row({ plate: "P".repeat(26) }), 9030, "permits.1.plate"],
      [row({ permitNo: "N".repeat(51) }), 9030, "permits.1.permitNo"],
      [row({ zone: "Lot 99" }), 9033, "permits.1.zone"],
      [row({ plate: undefined }), 9031, "permits.1.plate"],
    ];
    for (const [bad, code, field] of cases) {
      const { res, json } = await create(slug, [row({ plate: "GOOD1" }), bad]);
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(json).toMatchObject({ ErrorCode: code, field });
    }
    expect((await create(slug, [])).json).toMatchObject({ ErrorCode: 9032, field: "permits" });
    expect(await count("permits")).toBe(before);
  });
});

describe("standard permits are admins' to list and end", () => {
  it("an admin finds them by type, and ends one: kept, marked deleted, with the change in its history", async () => {
    const { slug } = await newSite();
    const { json } = await create(slug, [row(), row({ plate: "STD 2", permitNo: "F-2" })]);
    const [first] = json.references as string[];
    const search = (await (await adminCall("GET", `/sites/${slug}/permits?type=standard&plate=std-1`)).json()) as Body;
    expect(search).toMatchObject({ total: 1, permits: [{ reference_id: first, type: "standard", plate: "STD 1", deleted: false }] });
    expect((await (await adminCall("GET", `/sites/${slug}/permits`)).json()) as Body).toMatchObject({ total: 0, permits: [] });
    const ended = await adminCall("DELETE", `/sites/${slug}/permits/${first}`);
    expect(ended.status).toBe(200);
    expect(await ended.json()).toEqual({ reference_id: first, version: 2 });
    expect(await (await adminCall("DELETE", `/sites/${slug}/permits/${first}`)).json()).toEqual({ reference_id: first, version: 2 });
    const shown = (await (await adminCall("GET", `/permits/${first}`)).json()) as { status: string; history: Body[] };
    expect(shown.status).toBe("deleted");
    expect(shown.history.map((h) => [h.action, h.actor])).toEqual([
      ["create", "admin"],
      ["delete", "admin"],
    ]);
  });

  it("another site's permit, or none, is 9009 to an admin", async () => {
    const mine = await newSite();
    const other = await newSite();
    const { json } = await create(other.slug, [row()]);
    const theirs = (json.references as string[])[0] as string;
    const res = await adminCall("DELETE", `/sites/${mine.slug}/permits/${theirs}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ ErrorCode: 9009, field: "reference" });
    expect(await count("permits", "id = ? AND deleted_at IS NULL", theirs)).toBe(1);
  });

  it("a vendor's token cannot change or end one (9002, 403), even with the update and delete scopes", async () => {
    const { slug, token } = await newSite();
    const { json } = await create(slug, [row()]);
    const reference = (json.references as string[])[0] as string;
    for (const [path, body] of [
      ["update", { apiToken: token, referenceID: reference, plate: "HIJACK" }],
      ["delete", { apiToken: token, referenceID: reference }],
    ] as const) {
      const res = await post(`/api/OC-TOMA/v1/permits/${path}`, body);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ ErrorCode: 9002, field: "referenceID" });
    }
    expect(await env.DB.prepare("SELECT plate, version, deleted_at FROM permits WHERE id = ?").bind(reference).first()).toEqual({
      plate: "STD 1",
      version: 1,
      deleted_at: null,
    });
  });

  it("an admin-scope token ends its own site's permits, recorded under its id", async () => {
    const site = await newSite({ scopes: ["admin"] });
    const { json } = await create(site.slug, [row()]);
    const reference = (json.references as string[])[0] as string;
    expect((await adminCall("DELETE", `/sites/${site.slug}/permits/${reference}`, undefined, site.token)).status).toBe(200);
    expect(await count("permit_events", "permit_id = ? AND action = 'delete' AND actor = ?", reference, `token:${site.tokenId}`)).toBe(1);
  });
});
