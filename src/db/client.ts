import { type SQL, sql } from "drizzle-orm";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";

/**
 * How storage reaches D1: every query function takes the `D1Database`
 * binding (or a session of it, {@link D1Binding}) and asks this module for
 * what it needs.
 *
 * - Reads and single writes use drizzle's query builder on {@link database},
 *   and batches of them `database(d1).batch([...])`.
 * - A statement drizzle cannot express (INSERT … SELECT … ON CONFLICT,
 *   `json_each`, `changes()`, `INDEXED BY`) is a `sql` template, with a
 *   one-line reason where it is written. A batch holding one goes through
 *   `d1.batch` with {@link statement}, which takes builders too.
 * - Many rows of several values in one statement travel as one JSON
 *   parameter read with `json_each`, through {@link jsonRows}; a list of
 *   single values is read as `SELECT value FROM json_each(…)`.
 */
export type Database = DrizzleD1Database<Record<string, never>>;

/**
 * What a storage function queries: the D1 binding itself (the primary), or a
 * session of it ({@link openSession}), whose reads a replica near the caller
 * may answer. Both have `prepare` and `batch`, all that drizzle and
 * {@link statement} use.
 */
export type D1Binding = D1Database | D1DatabaseSession;

const handles = new WeakMap<D1Binding, Database>();

/** The drizzle handle of a D1 binding or session, built once per binding and isolate. */
export function database(d1: D1Binding): Database {
  let db = handles.get(d1);
  if (!db) {
    // drizzle types its client as D1Database; it calls only prepare() and batch(), which a session has too.
    db = drizzle(d1 as D1Database);
    handles.set(d1, db);
  }
  return db;
}

/**
 * A D1 session (the Sessions API): its queries see the database at least as
 * new as `bookmark` (read-your-writes for a client that sends back the
 * bookmark of its last answer) and never older than a query before them.
 * Without a bookmark, the first read may be answered by any replica
 * (`first-unconstrained`); writes always go to the primary. `getBookmark()`
 * afterwards says how new what it saw was.
 */
export function openSession(d1: D1Database, bookmark: string | null | undefined): D1DatabaseSession {
  return d1.withSession(bookmark ?? "first-unconstrained");
}

/** True when D1 refused a write for a UNIQUE or PRIMARY KEY constraint. */
export function isUniqueViolation(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? "")}` : String(error);
  return /UNIQUE constraint failed|SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)/i.test(text);
}

const dialect = new SQLiteAsyncDialect();

/**
 * A D1 statement for `d1.batch`, from a drizzle `sql` template or query
 * builder. drizzle's own `batch` cannot bind the parameters of raw `sql`
 * items (`db.run(sql)` inside a batch throws "reading 'bind'"). Rows come
 * back as D1 sends them: column names as written in the SQL.
 */
export function statement(d1: D1Binding, query: SQL | { toSQL(): { sql: string; params: unknown[] } }): D1PreparedStatement {
  const { sql, params } = "toSQL" in query ? query.toSQL() : dialect.sqlToQuery(query);
  return d1.prepare(sql).bind(...params);
}

/**
 * Many rows in one statement, as `json_each` reads them (a list of any length
 * is one bound parameter, far from D1's 100): the function answered gives
 * the SQL of one value of the row `j.value` by its name, and its `json(list)`
 * the rows, each a JSON array of its values in the order of `columns`.
 * Arrays rather than objects: SQLite reads a value by its position, not by
 * searching the row's keys, and the text is shorter (a third less SQLite time
 * comparing 10,000 unchanged ParkMobile rights). A nested value (a history
 * event's changes) travels as JSON text inside the row, not as an object:
 * extracting a string is cheaper for SQLite than serializing an object back
 * to text.
 */
export function jsonRows<K extends string>(columns: readonly K[]) {
  const field = (name: K) => sql.raw(`(j.value ->> ${columns.indexOf(name)})`);
  const json = (rows: readonly { [P in K]?: unknown }[]) => JSON.stringify(rows.map((row) => columns.map((column) => row[column] ?? null)));
  return Object.assign(field, { json });
}
