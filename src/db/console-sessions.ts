import { eq, lt } from "drizzle-orm";
import { seal, unseal } from "../auth/sealed";
import { randomString, sha256Hex } from "../auth/secrets";
import { database } from "./client";
import { consoleSessions, type Flash } from "./schema";

export type { Flash };

/** How long a console sign-in lasts. */
export const SESSION_SECONDS = 8 * 60 * 60;

export interface ConsoleSession {
  /** The cookie value itself: held in memory for this request only, never stored. */
  cookie: string;
  idHash: string;
  csrf: string;
  flash: Flash | null;
}

/** Opens a session; returns the cookie value (the only copy of the id). Expired sessions are swept on the way. */
export async function openSession(d1: D1Database, now: number): Promise<string> {
  const db = database(d1);
  const id = randomString(43);
  await db.batch([
    db.delete(consoleSessions).where(lt(consoleSessions.expiresAt, now)),
    db.insert(consoleSessions).values({ idHash: await sha256Hex(id), csrf: randomString(32), expiresAt: now + SESSION_SECONDS }),
  ]);
  return id;
}

/** The live session a cookie names, with its one-time message taken (cleared), or null. */
export async function readSession(d1: D1Database, cookie: string | undefined, now: number): Promise<ConsoleSession | null> {
  if (!cookie || !/^[A-Za-z0-9]{43}$/.test(cookie)) return null;
  const db = database(d1);
  const idHash = await sha256Hex(cookie);
  const row = await db.select().from(consoleSessions).where(eq(consoleSessions.idHash, idHash)).get();
  if (!row || row.expiresAt <= now) return null;
  const flash = row.flash;
  if (flash !== null) {
    await db.update(consoleSessions).set({ flash: null }).where(eq(consoleSessions.idHash, idHash));
    if (flash.secret) flash.secret = await unseal(await flashKey(cookie), flash.secret, "console-flash");
  }
  return { cookie, idHash, csrf: row.csrf, flash };
}

/**
 * The key that seals a one-time secret in a session's message: derived from
 * the cookie, which only the browser holds, so the stored row alone never
 * reveals a token just issued.
 */
async function flashKey(cookie: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`console-flash:${cookie}`));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** Leaves a message for the next page of this session (a secret in it sealed, see {@link flashKey}). */
export async function setFlash(d1: D1Database, session: ConsoleSession, flash: Flash): Promise<void> {
  const stored = flash.secret ? { ...flash, secret: await seal(await flashKey(session.cookie), flash.secret, "console-flash") } : flash;
  await database(d1).update(consoleSessions).set({ flash: stored }).where(eq(consoleSessions.idHash, session.idHash));
}

/** Ends a session: its cookie no longer works, even replayed. */
export async function closeSession(d1: D1Database, idHash: string): Promise<void> {
  await database(d1).delete(consoleSessions).where(eq(consoleSessions.idHash, idHash));
}
