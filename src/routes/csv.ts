/**
 * CSV as spreadsheets and accounting tools read it: RFC 4180 (comma
 * separated, CRLF line ends, a field quoted when it holds a comma, a quote or
 * a line break, quotes doubled) and safe to open: a text field that a
 * spreadsheet would run as a formula (starting with = + - @, a tab or a
 * carriage return) is prefixed with an apostrophe, as OWASP advises.
 */
export type CsvField = string | number | boolean | null;

const FORMULA = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One record, with its CRLF. */
export function csvRecord(fields: readonly CsvField[]): string {
  return `${fields
    .map((field) => {
      if (field === null) return "";
      if (typeof field !== "string") return String(field);
      const safe = FORMULA.test(field) ? `'${field}` : field;
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
  const encoder = new TextEncoder();
  const iterator = batches[Symbol.asyncIterator]();
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(csvRecord(header)));
        return;
      }
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value.map(csvRecord).join("")));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
