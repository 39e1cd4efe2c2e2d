import type { SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import * as schema from "./schema";

/** A drizzle handle over a D1 binding. Cheap: build one per request. */
export function database(d1: D1Database) {
  return drizzle(d1, { schema });
}
export type Database = ReturnType<typeof database>;

/** True when D1 refused a write for a UNIQUE or PRIMARY KEY constraint. */
export function isUniqueViolation(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? "")}` : String(error);
  return /UNIQUE constraint failed|SQLITE_CONSTRAINT_(UNIQUE|PRIMARYKEY)/i.test(text);
}

const dialect = new SQLiteAsyncDialect();

/**
 * A D1 statement from a drizzle `sql` template, for `D1Database.batch`.
 * drizzle's own `db.batch` cannot bind parameters of raw `sql` items
 * (`db.run(sql)` inside a batch throws "reading 'bind'"), and the hot
 * paths are raw SQL: INSERT … SELECT … ON CONFLICT.
 */
export function statement(d1: D1Database, query: SQL): D1PreparedStatement {
  const { sql, params } = dialect.sqlToQuery(query);
  return d1.prepare(sql).bind(...params);
}
