import { describe, expect, it } from "vitest";
import { count, newSite, post, seedPush } from "./helpers";

const PUSH = "/api/OC-TOMA/v1/permits/push";

describe("push: the seeds' examples", () => {
  it("seed 001's body answers the seed's success shape", async () => {
    const { token } = await newSite();
    const res = await post(PUSH, seedPush(token));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "success", disconnected: false });
    expect(body.reference_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.InternalReferenceID).toBe(body.reference_id);
  });
});
