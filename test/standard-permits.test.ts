import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { adminCall, count, newSite } from "./helpers";

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
      [row({ plate: "P".repeat(26) }), 9033, "permits.1.plate"],
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
