import { describe, expect, it } from "vitest";
import { adminCall, newSite, ocTomaOk, pushed } from "./helpers";

// The admin API's view of one permit: every version of its history, with who made it.

type Body = Record<string, unknown>;

describe("admin: a permit with its history", () => {
  it("shows every version with who did it", async () => {
    const { token } = await newSite();
    const reference = await pushed(token);
    await ocTomaOk("update", { apiToken: token, referenceID: reference, Amount: "2.00" });
    await ocTomaOk("delete", { apiToken: token, referenceID: reference });
    const res = await adminCall("GET", `/permits/${reference}`);
    const json = (await res.json()) as Body & { history: Body[] };
    expect(res.status).toBe(200);
    expect(json).toMatchObject({
      reference_id: reference,
      type: "temp",
      source: "push",
      amount: "2.00",
      version: 3,
      zone: "Lot 4",
      lotZone: "Lot 4",
      disconnected: false,
    });
    expect(json.history.map((h) => [h.version, h.action])).toEqual([
      [1, "create"],
      [2, "update"],
      [3, "delete"],
    ]);
    // In the API's own terms, as the permit shows them: `amount` "2.00", not the stored `amountCents` 200.
    expect(json.history[1]?.changes).toEqual({ amount: ["14.50", "2.00"] });
    expect(json.history[2]?.changes).toEqual({ deletedAt: [null, expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/)] });
    expect(json.history[0]?.changes).toMatchObject({ start: [null, "2018-07-02T09:00:00"], plateNormalized: [null, "PL8RDR"] });
    expect((await adminCall("GET", "/permits/nope")).status).toBe(404);
  });

  it("a site admin sees only its own site's permits", async () => {
    const mine = await newSite({ scopes: ["push", "admin"] });
    const other = await newSite();
    const theirs = await pushed(other.token);
    expect((await adminCall("GET", `/permits/${theirs}`, undefined, mine.token)).status).toBe(404);
    expect((await adminCall("GET", `/permits/${await pushed(mine.token)}`, undefined, mine.token)).status).toBe(200);
  });
});
