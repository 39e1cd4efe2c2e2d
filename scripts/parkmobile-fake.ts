/**
 * A stand-in for ParkMobile's enforcement API (nforceapi), built from the
 * shapes in its public client code: Basic auth plus `x-api-key`, `/zones`,
 * `/parkingrights/zone/{code}`, rights with 7-digit fractional UTC times.
 * Web-standard Request/Response only, so the same code serves the tests
 * (inside workerd, as an injected fetch) and the sandbox (a Node server).
 * Faults can be switched on to exercise the import's error handling.
 */

export interface FakeZone {
  signageZoneCode: string;
  internalZoneCode: string;
  supplierId: number;
  locationCode: string;
  description: string;
}

export interface FakeRight {
  parkingRightId: number;
  signageZoneCode: string;
  internalZoneCode: string;
  supplierId: number;
  lpn: string;
  lpnState: string;
  startDateLocal: string;
  startDateUtc?: string;
  endDateLocal: string;
  endDateUtc?: string;
  productDescription: string;
  spaceNumber: string;
  timeZone: string;
  permit: string;
  modifiedDate: string;
  modifiedDateUtc?: string;
  payedMinutes: number;
  purchaseAmount: number;
  productTypeId: number;
  createdDateLocal?: string;
  createdDateUtc?: string;
  customField1: string;
  customField2?: string;
  internalZoneCode2: string;
}

/** Faults the fake can answer with, to test how the import contains them. */
export interface FakeFaults {
  /** Answer every call with this status (401, 403, 500, 503 …). */
  status?: number;
  /** Answer the rights of these zone codes with a 500. */
  failZones?: string[];
  /** Answer the rights of these zone codes with text that is not JSON. */
  malformedZones?: string[];
  /** Answer the zone list with JSON that lacks `zones`. */
  zonesWithoutList?: boolean;
  /** Wait this long before answering (to trip the client's timeout). */
  delayMs?: number;
}

const EASTERN_OFFSET_HOURS = -5;

/** ParkMobile's UTC format: 7 fractional digits and a Z. */
export function pmUtc(epochSeconds: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(0, 19)}.0000000Z`;
}

/** ParkMobile's local format (no offset), here for Eastern Standard Time. */
function pmLocal(epochSeconds: number): string {
  return `${new Date((epochSeconds + EASTERN_OFFSET_HOURS * 3600) * 1000).toISOString().slice(0, 19)}.0000000`;
}

/** A fake's zones, rights and next id, as JSON. */
export interface FakeSnapshot {
  zones: FakeZone[];
  rights: Record<string, FakeRight[]>;
  nextId: number;
}

export class ParkMobileFake {
  readonly credentials: { username: string; password: string; apiKey: string };
  readonly zones: FakeZone[] = [];
  readonly rights = new Map<string, FakeRight[]>();
  faults: FakeFaults = {};
  /** Every path asked for, in order. */
  readonly requests: string[] = [];
  /** The Authorization header of each request, as sent. */
  readonly authorizations: (string | null)[] = [];
  #nextId: number;

  /** `firstId`: where parkingRightIds start; ParkMobile never reuses one, so a long-lived stand-in starts past the last run's. */
  constructor(credentials: { username: string; password: string; apiKey: string }, firstId = 700_000_000) {
    this.credentials = credentials;
    this.#nextId = firstId;
  }

  /** Adds a zone; `code` is the signage zone code, the number drivers see on the sign. */
  addZone(code: string, description = `Zone ${code}`): FakeZone {
    const zone = { signageZoneCode: code, internalZoneCode: code, supplierId: 123456, locationCode: `L${code}`, description };
    this.zones.push(zone);
    this.rights.set(code, []);
    return zone;
  }

  /** Adds a purchase in a zone, starting `start` (epoch seconds) for `minutes`. */
  addRight(code: string, right: { plate: string; start: number; minutes: number; amount?: number; state?: string }): FakeRight {
    const list = this.rights.get(code);
    if (!list) throw new Error(`no zone ${code}`);
    const end = right.start + right.minutes * 60;
    const made: FakeRight = {
      parkingRightId: this.#nextId++,
      signageZoneCode: code,
      internalZoneCode: code,
      supplierId: 123456,
      lpn: right.plate,
      lpnState: right.state ?? "ON",
      startDateLocal: pmLocal(right.start),
      startDateUtc: pmUtc(right.start),
      endDateLocal: pmLocal(end),
      endDateUtc: pmUtc(end),
      productDescription: "Cashless Parking",
      spaceNumber: "",
      timeZone: "Eastern Standard Time",
      permit: "",
      modifiedDate: pmLocal(right.start + 4),
      modifiedDateUtc: pmUtc(right.start + 4),
      payedMinutes: right.minutes,
      purchaseAmount: right.amount ?? Math.round(right.minutes * 3.25) / 100,
      productTypeId: 1,
      createdDateLocal: pmLocal(right.start + 4),
      createdDateUtc: pmUtc(right.start + 4),
      customField1: "",
      customField2: "",
      internalZoneCode2: `12${code}`,
    };
    list.push(made);
    return made;
  }

  /** Extends a purchase: a later end and a later modification time on the same id, as ParkMobile shows it. */
  extend(parkingRightId: number, minutes: number, modifiedAt: number, extraAmount = 1): FakeRight {
    const right = [...this.rights.values()].flat().find((r) => r.parkingRightId === parkingRightId);
    if (!right) throw new Error(`no right ${parkingRightId}`);
    const end = Date.parse(right.endDateUtc ?? "") / 1000 + minutes * 60;
    right.endDateUtc = pmUtc(end);
    right.endDateLocal = pmLocal(end);
    right.modifiedDateUtc = pmUtc(modifiedAt);
    right.modifiedDate = pmLocal(modifiedAt);
    right.payedMinutes += minutes;
    right.purchaseAmount = Math.round((right.purchaseAmount + extraAmount) * 100) / 100;
    return right;
  }

  /** What the fake holds, as JSON: its zones, rights and next id, so a restarted stand-in can carry on from it. */
  snapshot(): FakeSnapshot {
    return { zones: this.zones, rights: Object.fromEntries(this.rights), nextId: this.#nextId };
  }

  /** A fake holding what `snapshot()` took. */
  static restore(credentials: { username: string; password: string; apiKey: string }, snapshot: FakeSnapshot): ParkMobileFake {
    const fake = new ParkMobileFake(credentials, snapshot.nextId);
    fake.zones.push(...snapshot.zones);
    for (const [code, rights] of Object.entries(snapshot.rights)) fake.rights.set(code, rights);
    return fake;
  }

  /** Drops purchases that ended before `before` (ParkMobile lists active rights only). */
  expire(before: number): void {
    for (const [code, list] of this.rights) {
      this.rights.set(
        code,
        list.filter((r) => Date.parse(r.endDateUtc ?? `${r.endDateLocal}Z`) / 1000 >= before),
      );
    }
  }

  /** The fake as a `fetch`: pass it where the import takes one. */
  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    this.requests.push(url.pathname);
    this.authorizations.push(request.headers.get("authorization"));
    if (this.faults.delayMs) await new Promise((resolve) => setTimeout(resolve, this.faults.delayMs));
    if (this.faults.status) return Response.json({ message: "fault" }, { status: this.faults.status });
    const { username, password, apiKey } = this.credentials;
    // RFC 7617 with charset=UTF-8, as ParkMobile's clients send non-ASCII credentials.
    const basic = `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${username}:${password}`)))}`;
    if (request.headers.get("authorization") !== basic || request.headers.get("x-api-key") !== apiKey) {
      return Response.json({ message: "Authorization has been denied for this request." }, { status: 401 });
    }
    if (request.method !== "GET") return new Response(null, { status: 405 });

    if (url.pathname === "/nforceapi/zones") {
      if (this.faults.zonesWithoutList) return Response.json({ totalCount: this.zones.length });
      return Response.json({ totalCount: this.zones.length, zones: this.zones });
    }
    const match = /^\/nforceapi\/parkingrights\/zone\/([^/]+)$/.exec(url.pathname);
    if (match) {
      const code = decodeURIComponent(match[1] as string);
      if (this.faults.failZones?.includes(code)) return Response.json({ message: "An error has occurred." }, { status: 500 });
      if (this.faults.malformedZones?.includes(code)) return new Response("<html>Service Unavailable</html>", { status: 200 });
      const rights = this.rights.get(code) ?? [];
      return Response.json({
        resultTimeStampLocal: JSON.stringify(pmLocal(Math.floor(Date.now() / 1000))),
        parkingRights: rights,
        totalCount: rights.length,
        resultCount: rights.length,
      });
    }
    return Response.json({ message: "No HTTP resource was found." }, { status: 404 });
  };
}

/**
 * A fake with plausible traffic, for the sandbox: zones `4410` (matched by the
 * demo's lot zone of that name), `4411`, and `9999` (no lot zone: skipped),
 * and `perZone` purchases in each, started over the past two hours.
 */
export function demoParkMobile(
  credentials: { username: string; password: string; apiKey: string },
  now: number,
  perZone = 8,
  firstId?: number,
): ParkMobileFake {
  const fake = new ParkMobileFake(credentials, firstId);
  const plates = ["BXRT 204", "CFKL-881", "AAB1234", "LMN 456", "QRS7788", "TUV 991", "XYZ-123", "GHJ5521", "KPL 640", "WER-302"];
  for (const code of ["4410", "4411", "9999"]) {
    fake.addZone(code, `Downtown zone ${code}`);
    for (let i = 0; i < perZone; i++) {
      const minutes = [30, 60, 90, 120][i % 4] as number;
      fake.addRight(code, { plate: plates[(i * 3 + Number(code)) % plates.length] as string, start: now - 7200 + i * 600, minutes });
    }
  }
  return fake;
}
