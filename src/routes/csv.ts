/**
 * CSV as spreadsheets and accounting tools read it: RFC 4180 (comma
 * separated, CRLF line ends, a field quoted when it holds a comma, a quote or
 * a line break, quotes doubled) and safe to open: a text field that a
 * spreadsheet would run as a formula (starting with = + - @, a tab or a
 * carriage return) is prefixed with an apostrophe, as OWASP advises; a
 * plain number (`-1.50`, a refund) is a number, not a formula, and stays as
 * it is.
 */
export type CsvField = string | number | boolean | null;

const FORMULA = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?\d+(?:\.\d+)?$/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One record, with its CRLF. */
export function csvRecord(fields: readonly CsvField[]): string {
  return `${fields
    .map((field) => {
      if (field === null) return "";
      if (typeof field !== "string") return String(field);
      const safe = FORMULA.test(field) && !PLAIN_NUMBER.test(field) ? `'${field}` : field;
      return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
    })
    .join(",")}\r\n`;
}

/**
 * A CSV body streamed as its rows arrive: the header record, then each batch
 * of records, encoded as UTF-8. Rows are pulled only as fast as the client
 * reads, so a large export never sits whole in memory.
 */
export function csvStream(header: readonly string[], batches: AsyncIterable<readonly CsvField[][]>): ReadableStream<Uint8Array> {
  return textStream(
    csvRecord(header),
    mapBatches(batches, (rows) => rows.map(csvRecord).join("")),
  );
}

/** Each batch of `batches`, as `f` makes it. */
export async function* mapBatches<T, U>(batches: AsyncIterable<T>, f: (batch: T) => U): AsyncGenerator<U> {
  for await (const batch of batches) yield f(batch);
}

/**
 * A text body streamed in parts, as UTF-8: `head`, each part as it comes,
 * then `tail`. Parts are pulled only as fast as the client reads; a part
 * that fails errors the stream, so the client sees a broken transfer, never
 * a short file that looks whole.
 */
export function textStream(head: string, parts: AsyncIterable<string>, tail = ""): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = parts[Symbol.asyncIterator]();
  let headSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headSent) {
        headSent = true;
        controller.enqueue(encoder.encode(head));
        return;
      }
      const next = await iterator.next();
      if (!next.done) controller.enqueue(encoder.encode(next.value));
      else {
        if (tail) controller.enqueue(encoder.encode(tail));
        controller.close();
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
