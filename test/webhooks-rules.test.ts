import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS, RETRY_DELAYS_SECONDS, retryDelaySeconds } from "../src/domain/webhooks";
import { checkWebhookUrl, classifyHost, parseIpv6 } from "../src/webhooks/address";
import { retryAfterSeconds } from "../src/webhooks/deliver";
import { clearResolved, DOH_URL, refusedAddress } from "../src/webhooks/resolve";
import { newWebhookSecret, signWebhook, webhookHeaders } from "../src/webhooks/signature";
import wranglerToml from "../wrangler.toml?raw";

describe("signatures (Standard Webhooks v1)", () => {
  it("match the specification's example", async () => {
    // standard-webhooks/standard-webhooks spec: secret, msg id, timestamp and payload of its example, and its signature.
    const signature = await signWebhook(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("sign id, timestamp and body together: changing any one changes the signature", async () => {
    const secret = newWebhookSecret();
    const base = await signWebhook(secret, "msg_a", 1, "{}");
    expect(await signWebhook(secret, "msg_b", 1, "{}")).not.toBe(base);
    expect(await signWebhook(secret, "msg_a", 2, "{}")).not.toBe(base);
    expect(await signWebhook(secret, "msg_a", 1, "{ }")).not.toBe(base);
    expect(await signWebhook(newWebhookSecret(), "msg_a", 1, "{}")).not.toBe(base);
  });

  it("carry one entry per secret in use, space-separated", async () => {
    const [a, b] = [newWebhookSecret(), newWebhookSecret()];
    const headers = await webhookHeaders([a, b], "msg_x", 1700000000, '{"k":1}');
    expect(headers).toMatchObject({ "content-type": "application/json", "webhook-id": "msg_x", "webhook-timestamp": "1700000000" });
    expect(headers["webhook-signature"]).toBe(
      `${await signWebhook(a, "msg_x", 1700000000, '{"k":1}')} ${await signWebhook(b, "msg_x", 1700000000, '{"k":1}')}`,
    );
  });

  it("secrets are whsec_ and 32 random bytes, never twice the same", () => {
    const secrets = new Set(Array.from({ length: 50 }, newWebhookSecret));
    expect(secrets.size).toBe(50);
    for (const s of secrets) expect(atob(s.replace(/^whsec_/, ""))).toHaveLength(32);
  });
});

describe("the address rule", () => {
  it.each([
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["11.0.0.1", null],
    ["172.15.255.255", null],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.0", null],
    ["192.168.0.1", "private"],
    ["169.254.169.254", "link-local"],
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["100.64.0.1", "shared (carrier-grade NAT)"],
    ["100.128.0.1", null],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["198.18.0.1", "reserved"],
    ["192.0.2.10", "documentation"],
    ["8.8.8.8", null],
    ["[::1]", "loopback"],
    ["[::]", "unspecified"],
    ["[::ffff:a00:1]", "private"],
    ["[::ffff:808:808]", null],
    ["[64:ff9b::a9fe:a9fe]", "link-local"],
    ["[::ffff:0:a00:1]", "private"],
    ["[::ffff:0:808:808]", null],
    ["[64:ff9b:1::a00:1]", "private"],
    ["[3fff::1]", "documentation"],
    ["[5f00::1]", "reserved"],
    ["[fe80::1]", "link-local"],
    ["[fc00::1]", "private"],
    ["[fdff:ffff::1]", "private"],
    ["[ff02::1]", "multicast"],
    ["[2001:db8::1]", "documentation"],
    ["[2606:4700:4700::1111]", null],
  ])("address %s is %s", (host, kind) => {
    expect(classifyHost(host)).toMatchObject({ type: "address", kind });
  });

  it("reads IPv6 text as the URL parser leaves it, and refuses what is not an address", () => {
    expect(parseIpv6("::")).toBe(0n);
    expect(parseIpv6("::1")).toBe(1n);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toBe(0x00010002000300040005000600070008n);
    expect(parseIpv6("::ffff:10.0.0.1")).toBe(0xffff0a000001n);
    for (const bad of ["1::2::3", "1:2:3:4:5:6:7:8:9", "g::1", "12345::", ":::"]) expect(parseIpv6(bad)).toBeNull();
  });

  it("tells names that never reach the public DNS from those that do", () => {
    for (const name of ["localhost", "a.localhost", "localhost.", "localhost..", "foo.localhost.."])
      expect(classifyHost(name)).toMatchObject({ type: "special-name", loopback: true });
    for (const name of [
      "intranet",
      "nas.local",
      "db.internal",
      "x.home.arpa",
      "1.0.0.127.in-addr.arpa",
      "box.lan",
      "x.internal..",
      "foo.local..",
    ]) {
      expect(classifyHost(name)).toMatchObject({ type: "special-name", loopback: false });
    }
    expect(classifyHost("hooks.example.com")).toEqual({ type: "name", name: "hooks.example.com" });
  });

  it("lets the sandbox flag through loopback only", () => {
    expect(checkWebhookUrl("http://127.0.0.1:8789/demo", true).ok).toBe(true);
    expect(checkWebhookUrl("http://[::1]:8789/demo", true).ok).toBe(true);
    expect(checkWebhookUrl("http://localhost:8789/demo", true).ok).toBe(true);
    expect(checkWebhookUrl("http://127.0.0.1:8789/demo", false)).toMatchObject({ ok: false });
    expect(checkWebhookUrl("http://10.0.0.1/", true)).toMatchObject({ ok: false });
    expect(checkWebhookUrl("http://example.com/", true)).toEqual({ ok: false, rule: "must be https" });
    expect(checkWebhookUrl("https://example.com/", false).ok).toBe(true);
  });
});

describe("what a host name resolves to (DNS over HTTPS)", () => {
  /** A DNS-over-HTTPS stand-in answering `records` by type, counting the questions. */
  function doh(records: { A?: string[]; AAAA?: string[] }, status = 0) {
    const asked: string[] = [];
    const fetchImpl = (async (input: RequestInfo | URL) => {
      const url = new URL(String(input));
      expect(`${url.origin}${url.pathname}`).toBe(DOH_URL);
      const type = url.searchParams.get("type") as "A" | "AAAA";
      asked.push(`${url.searchParams.get("name")} ${type}`);
      const Answer = (records[type] ?? []).map((data) => ({ type: type === "A" ? 1 : 28, data, TTL: 300 }));
      return Response.json({ Status: status, Answer });
    }) as typeof fetch;
    return { fetchImpl, asked };
  }

  it("refuses a name with a private, loopback or link-local address among its answers", async () => {
    clearResolved();
    const rebind = doh({ A: ["93.184.215.14", "10.0.0.7"] });
    expect(await refusedAddress("rebind.example.com", rebind.fetchImpl)).toEqual({
      kind: "address",
      message: "rebind.example.com resolves to a private address (10.0.0.7): webhooks go to public hosts only",
    });
    const metadata = doh({ AAAA: ["fe80::1"] });
    expect(await refusedAddress("v6.example.com", metadata.fetchImpl)).toMatchObject({ kind: "address" });
  });

  it("passes a public name, and asks again only after the answer's TTL (at most a minute)", async () => {
    clearResolved();
    const dns = doh({ A: ["93.184.215.14"], AAAA: ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"] });
    expect(await refusedAddress("public.example.com", dns.fetchImpl, 0)).toBeNull();
    expect(await refusedAddress("public.example.com", dns.fetchImpl, 59_000)).toBeNull();
    expect(dns.asked).toEqual(["public.example.com A", "public.example.com AAAA"]);
    await refusedAddress("public.example.com", dns.fetchImpl, 61_000);
    expect(dns.asked).toHaveLength(4);
  });

  it("fails the attempt when the lookup fails, rather than sending blind", async () => {
    clearResolved();
    expect(await refusedAddress("servfail.example.com", doh({}, 2).fetchImpl)).toMatchObject({ kind: "lookup" });
    const down = (async () => new Response("no", { status: 502 })) as unknown as typeof fetch;
    expect(await refusedAddress("down.example.com", down)).toMatchObject({ kind: "lookup" });
  });
});

describe("the retry schedule", () => {
  it("is Svix's: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then the dead-letter queue; about 27.5 hours in all", () => {
    expect(RETRY_DELAYS_SECONDS).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(MAX_ATTEMPTS).toBe(8);
    expect(RETRY_DELAYS_SECONDS.reduce((a, b) => a + b, 0) / 3600).toBeCloseTo(27.58, 1);
    expect(retryDelaySeconds(8, null, 0)).toBeNull();
  });

  it("stretches each delay by up to 10%, never less than Retry-After, never past 12 hours", () => {
    expect(retryDelaySeconds(1, null, 0)).toBe(5);
    expect(retryDelaySeconds(2, null, 0.999)).toBe(329);
    expect(retryDelaySeconds(1, 120, 0.5)).toBe(120);
    expect(retryDelaySeconds(3, 60, 0)).toBe(1800);
    expect(retryDelaySeconds(1, 7 * 86400, 0)).toBe(12 * 3600);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-23T10:00:00Z");
    expect(retryAfterSeconds("120", now)).toBe(120);
    expect(retryAfterSeconds(" 7 ", now)).toBe(7);
    expect(retryAfterSeconds("Mon, 23 Nov 2026 10:02:00 GMT", now)).toBe(120);
    expect(retryAfterSeconds("Mon, 23 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(retryAfterSeconds("soon", now)).toBeNull();
    expect(retryAfterSeconds(null, now)).toBeNull();
  });

  it("is what wrangler.toml gives the queue: max_retries is the retries of the schedule, and a dead-letter queue", () => {
    const consumer = /\[\[queues\.consumers\]\]\s*\nqueue = "permits-edge-webhooks"\n([\s\S]*?)(?=\n\[\[|$)/.exec(wranglerToml)?.[1] ?? "";
    expect(/max_retries = (\d+)/.exec(consumer)?.[1]).toBe(String(RETRY_DELAYS_SECONDS.length));
    expect(consumer).toContain('dead_letter_queue = "permits-edge-webhooks-dlq"');
    expect(wranglerToml).toMatch(/\[\[queues\.consumers\]\]\s*\nqueue = "permits-edge-webhooks-dlq"/);
    expect(wranglerToml).toMatch(/\[\[queues\.producers\]\]\s*\nqueue = "permits-edge-webhooks"\nbinding = "WEBHOOKS"/);
  });
});
