import type { MiddlewareHandler } from "hono";
import { parseDate } from "../domain/time";

/**
 * Deprecating an operation, as the README's versioning policy says: its
 * declaration (`apiRoute`, `adminRoute`) takes a {@link Deprecation}, and
 * then every answer of the operation, errors included, carries
 * `Deprecation` (RFC 9745) and `Sunset` (RFC 8594), with `Link`s to what
 * replaces it and to the notice, and the OpenAPI document marks the
 * operation `deprecated` and says when it goes. OC-TOMA v1 is never
 * deprecated this way: it is OPS-COM's contract, frozen.
 */

/** The shortest time an operation lives after its deprecation is announced (the versioning policy). */
export const MIN_SUNSET_MONTHS = 12;

/** An operation's deprecation. */
export interface Deprecation {
  /** The day (UTC, `Y-m-d`) the deprecation was announced. */
  since: string;
  /** The day (UTC, `Y-m-d`) the operation stops answering: at least {@link MIN_SUNSET_MONTHS} months after `since`. */
  sunset: string;
  /** What replaces it: a path of this API (`/api/v2/…`) or a URL. */
  successor?: string;
  /** Where the change is explained (the README's section, a changelog entry). */
  notice?: string;
}

/** The deprecation's days as epoch seconds, checked when the operation is declared: a mistake fails at start-up, in every test. */
function days(d: Deprecation): { since: number; sunset: number } {
  const since = parseDate(d.since);
  const sunset = parseDate(d.sunset);
  if (since === undefined || sunset === undefined)
    throw new Error(`a deprecation's since and sunset are days (Y-m-d): ${JSON.stringify(d)}`);
  const earliest = new Date(since * 1000);
  earliest.setUTCMonth(earliest.getUTCMonth() + MIN_SUNSET_MONTHS);
  if (sunset * 1000 < earliest.getTime()) {
    throw new Error(`a deprecated operation lives at least ${MIN_SUNSET_MONTHS} months: sunset ${d.sunset} is too soon after ${d.since}`);
  }
  return { since, sunset };
}

/**
 * The header fields of a deprecation: `Deprecation` as an RFC 9745
 * Structured Field Date (`@` and epoch seconds), `Sunset` as an RFC 8594
 * HTTP-date, and `Link` to the successor (`successor-version`, RFC 5829)
 * and the notice (`deprecation`, RFC 9745 §3).
 */
export function deprecationHeaders(d: Deprecation): Record<string, string> {
  const { since, sunset } = days(d);
  const links = [
    ...(d.successor ? [`<${d.successor}>; rel="successor-version"`] : []),
    ...(d.notice ? [`<${d.notice}>; rel="deprecation"`] : []),
  ];
  return {
    Deprecation: `@${since}`,
    Sunset: new Date(sunset * 1000).toUTCString(),
    ...(links.length > 0 ? { Link: links.join(", ") } : {}),
  };
}

/** What a route declaration adds for a deprecation: the middleware that sends its headers, and its OpenAPI fields. */
export function deprecationOf(d: Deprecation | undefined, description: string | undefined) {
  if (!d) return { middleware: [], openapi: {} };
  const headers = deprecationHeaders(d);
  const send: MiddlewareHandler = async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
  };
  const instead = d.successor ? ` Use ${d.successor} instead.` : "";
  const note = `**Deprecated** since ${d.since}; it stops answering on ${d.sunset} (the \`Sunset\` header says so on every answer).${instead}`;
  return {
    middleware: [send],
    openapi: { deprecated: true, description: description ? `${note}\n\n${description}` : note, "x-sunset": d.sunset },
  };
}
