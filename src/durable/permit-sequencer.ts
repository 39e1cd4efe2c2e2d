import { DurableObject } from "cloudflare:workers";
import { extendSession, type SessionExtension, type SessionStop, type SessionWriteResult, stopSession } from "../db/permits/sessions";
import {
  deletePermit,
  type PermitDelete,
  type PermitUpdate,
  type PermitWrite,
  updatePermit,
  type VersionResult,
} from "../db/permits/versions";
import { nowSeconds } from "../domain/time";
import { publishPermitWrites } from "../webhooks/publish";

/** The RPC contract: what the Worker sends to update a permit (which permit, of which site, what changes, who asks). */
export type UpdateRequest = PermitUpdate;
/** What the Worker sends to delete a permit. */
export type DeleteRequest = PermitDelete;
/**
 * What a serialized write answers: the version now stored, or why nothing
 * was written, and the D1 bookmark after it (the caller hands it to its
 * client, whose next read then sees the write). A plain value, because
 * errors do not cross RPC as classes.
 */
export type WriteResult = Answered<VersionResult>;
/** What the Worker sends to stop a session (whose, which, who asks). */
export type StopRequest = SessionStop;
/** What the Worker sends to extend a session: also the minutes, and the amount and currency if the client sent them. */
export type ExtendRequest = SessionExtension;
/** What a session write answers (a plain value with the bookmark after it, as {@link WriteResult}). */
export type SessionResult = Answered<SessionWriteResult>;

/** A result as the Worker gets it back: without what was written (its webhooks are published here), with the bookmark. */
type Answered<R> = (R extends unknown ? Omit<R, "write"> : never) & { bookmark: string | null };

/**
 * One object per permit reference: updates and deletes of a reference run one
 * after another, in arrival order; different references run in parallel.
 *
 * Why a queue: a Durable Object's input gate holds other calls back only
 * while it awaits its own storage. Awaiting D1 lets the next call in, so two
 * read-modify-writes would interleave and lose an update. The FIFO promise
 * chain below makes each call wait for the one before it. The D1 write is also
 * a compare-and-set on the version, so an object restarted (or, rarely, run
 * twice) still cannot lose an update.
 */
export class PermitSequencer extends DurableObject<Env> {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `work` after every call that arrived before it has finished, failed or not. */
  #inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs a write in a D1 session that starts at the primary (the read before
   * the compare-and-set must see the latest version), and answers its result
   * with the session's bookmark. What the write changed is published to the
   * site's webhooks (as a session event too, when `session` says which) after
   * the turn, never making the caller wait for it.
   */
  async #write<R extends object>(
    siteId: number,
    apply: (d1: D1DatabaseSession) => Promise<R>,
    session?: "extended" | "stopped",
  ): Promise<Answered<R>> {
    const d1 = this.env.DB.withSession("first-primary");
    const { write, ...result } = (await apply(d1)) as R & { write?: PermitWrite };
    if (write) this.ctx.waitUntil(publishPermitWrites(this.env, siteId, [{ ...write, session }]));
    return { ...result, bookmark: d1.getBookmark() } as Answered<R>;
  }

  /** Applies an update as the permit's next version. */
  async update(request: UpdateRequest): Promise<WriteResult> {
    return this.#inTurn(() => this.#write(request.siteId, (d1) => updatePermit(d1, request, nowSeconds())));
  }

  /** Deletes the permit (a soft delete, kept with its history). */
  async remove(request: DeleteRequest): Promise<WriteResult> {
    return this.#inTurn(() => this.#write(request.siteId, (d1) => deletePermit(d1, request, nowSeconds())));
  }

  /**
   * Stops the session (its end becomes now). The clock is read when its turn
   * comes, so an extension queued before the stop is applied first and none
   * queued after it can move the end again.
   */
  async stopSession(request: StopRequest): Promise<SessionResult> {
    return this.#inTurn(() => this.#write(request.siteId, (d1) => stopSession(d1, request, nowSeconds()), "stopped"));
  }

  /** Extends the session by whole minutes, within its zone's maximum. */
  async extendSession(request: ExtendRequest): Promise<SessionResult> {
    return this.#inTurn(() => this.#write(request.siteId, (d1) => extendSession(d1, request, nowSeconds()), "extended"));
  }
}

/** The object that serializes the writes of one permit reference. */
export function permitSequencer(env: Env, reference: string) {
  return env.PERMIT_SEQUENCER.getByName(reference);
}
