/**
 * A client of ParkMobile's enforcement API (nforceapi). Every call sends
 * Basic auth (API username and password) and the `x-api-key` header, asks
 * for JSON, and gives up after {@link TIMEOUT_MS}. Failures become
 * {@link ParkMobileError}s whose message says what went wrong in words an
 * admin can act on; `fatal` ones (credentials refused) end the whole run.
 */

export const DEFAULT_BASE_URL = "https://api.parkmobile.io";
export const TIMEOUT_MS = 15_000;

export interface ParkMobileCredentials {
  baseUrl: string;
  username: string;
  password: string;
  apiKey: string;
}

export class ParkMobileError extends Error {
  readonly fatal: boolean;
  constructor(message: string, fatal = false) {
    super(message);
    this.name = "ParkMobileError";
    this.fatal = fatal;
  }
}

/** A ParkMobile zone as the zone list sends it; only the signage code is required. */
export interface ParkMobileZone {
  signageZoneCode: string;
  description?: string;
}

export type Fetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** HTTP Basic credentials of UTF-8 text (RFC 7617 §2.1, charset=UTF-8): base64 of the UTF-8 bytes of `user:password`. */
export function basicAuthorization(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * Why a fetch failed, in words: the runtime reports a name that does not
 * resolve as an opaque "internal error; reference = …", and a refused or
 * broken connection as "Network connection lost.".
 */
function unreachable(error: unknown, host: string): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/^internal error; reference = /.test(message)) return `the name ${host} could not be resolved, or no connection could be made`;
  if (/^Network connection lost/.test(message)) return `the connection to ${host} failed`;
  return message.replace(/\.$/, "");
}

export class ParkMobileClient {
  readonly #credentials: ParkMobileCredentials;
  readonly #fetch: Fetch;

  constructor(credentials: ParkMobileCredentials, fetchImpl: Fetch = fetch) {
    this.#credentials = credentials;
    // Wrapped: the runtime's fetch throws "Illegal invocation" when called as a method of another object.
    this.#fetch = (input, init) => fetchImpl(input, init);
  }

  /** GET a path and parse its JSON, or throw a ParkMobileError that says why not. */
  async #get(path: string): Promise<unknown> {
    const { baseUrl, username, password, apiKey } = this.#credentials;
    const url = `${baseUrl.replace(/\/+$/, "")}${path}?format=json`;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        headers: { authorization: basicAuthorization(username, password), "x-api-key": apiKey, accept: "application/json" },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw new ParkMobileError(
        timedOut
          ? `ParkMobile did not answer ${path} within ${TIMEOUT_MS / 1000} s.`
          : `ParkMobile could not be reached for ${path}: ${unreachable(error, new URL(url).host)}.`,
      );
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new ParkMobileError(
        `ParkMobile refused the credentials (HTTP ${response.status}) for ${path}: check the API username, API password and X-API-Key.`,
        true,
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new ParkMobileError(`ParkMobile answered ${path} with HTTP ${response.status}.`);
    }
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new ParkMobileError(`ParkMobile answered ${path} with something that is not JSON: ${JSON.stringify(text.slice(0, 80))}.`);
    }
  }

  /** The zones this account may enforce. */
  async zones(): Promise<ParkMobileZone[]> {
    const body = (await this.#get("/nforceapi/zones")) as { zones?: unknown };
    if (!Array.isArray(body?.zones)) throw new ParkMobileError("ParkMobile's zone list lacks its `zones` array.");
    return body.zones.flatMap((z: unknown) => {
      const code = (z as { signageZoneCode?: unknown })?.signageZoneCode;
      return typeof code === "string" || typeof code === "number"
        ? [{ signageZoneCode: String(code), description: (z as { description?: string }).description }]
        : [];
    });
  }

  /** The active parking rights of one zone, as sent (each is checked by the mapping). */
  async rightsOfZone(zoneCode: string): Promise<unknown[]> {
    const path = `/nforceapi/parkingrights/zone/${encodeURIComponent(zoneCode)}`;
    const body = (await this.#get(path)) as { parkingRights?: unknown };
    if (!Array.isArray(body?.parkingRights))
      throw new ParkMobileError(`ParkMobile's answer for zone ${zoneCode} lacks its \`parkingRights\` array.`);
    return body.parkingRights;
  }
}
