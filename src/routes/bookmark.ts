import type { Context, MiddlewareHandler } from "hono";
import { openSession } from "../db/client";
import { AppError, ErrorCode } from "../errors";
import type { AppEnv } from "../http";

/**
 * Reads near the caller, with D1's Sessions API. The pattern, on every public
 * surface (OC-TOMA, lookup, the enforcement feed, validate/plate):
 *
 * - a handler takes its D1 handle from {@link d1Session} once the caller is
 *   authenticated: a session that starts at the client's `x-d1-bookmark`
 *   (read-your-writes), or anywhere (`first-unconstrained`) without one, so
 *   a replica near the caller may answer its reads; writes go to the primary
 *   whatever the session;
 * - the app-level {@link sendBookmark} middleware puts the session's latest
 *   bookmark on the answer, errors included, so the client can send it back.
 *
 * Tokens and site settings are read from the primary on a cache miss, not
 * through the session, so a token issued a moment ago works at once anywhere.
 */

/** The header a client sends its last bookmark in, and every answer carries the new one in. */
export const BOOKMARK_HEADER = "x-d1-bookmark";

/** D1's bookmarks: four dash-separated hex fields (e.g. `00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683`). */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/**
 * The request's D1 session, opened on first use from the client's
 * `x-d1-bookmark` (9033, 400 if that is not a bookmark), or, with `after`,
 * reopened from a bookmark the request obtained itself (a write done by the
 * permit's Durable Object), so the answer's bookmark covers that write.
 */
export function d1Session<E extends AppEnv>(context: Context<E>, after?: string | null): D1DatabaseSession {
  // Every environment of this app extends AppEnv; its variables are seen through that.
  const c = context as unknown as Context<AppEnv>;
  const current = c.get("d1");
  if (current && !after) return current.session;
  let since = after ?? null;
  if (!since) {
    const sent = c.req.header(BOOKMARK_HEADER);
    if (sent !== undefined && sent !== "") {
      if (!BOOKMARK.test(sent)) {
        throw new AppError(ErrorCode.Invalid, `${BOOKMARK_HEADER} must be a bookmark an answer of this API carried (or be left out).`, {
          field: BOOKMARK_HEADER,
        });
      }
      since = sent;
    }
  }
  const session = openSession(c.env.DB, since);
  c.set("d1", { session, since });
  return session;
}

/** App middleware: the answer carries the bookmark of what its session saw (or started from), when it used one. */
export function sendBookmark(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const used = c.get("d1");
    const bookmark = used ? (used.session.getBookmark() ?? used.since) : null;
    if (bookmark) c.header(BOOKMARK_HEADER, bookmark);
  };
}
