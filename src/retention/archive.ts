/**
 * Archive objects in R2: gzip-compressed NDJSON, one line per permit, written
 * as a stream (compressed as it goes; uploaded in parts once it outgrows one
 * part, so a month of any size fits in a Worker's memory).
 */

/** One line of an archive: a permit with every stored column, the name of its lot zone, and its whole history. */
export interface ArchiveLine {
  permit: Record<string, unknown> & { id: string; version: number };
  lotZone: string | null;
  history: { version: number; action: string; changes: unknown; actor: string; at: number }[];
}

/** What an archive object's custom metadata says (strings, as R2 keeps them). */
export interface ArchiveMetadata {
  site: string;
  month: string;
  /** How many permits (lines) it holds. */
  permits: string;
  [key: string]: string;
}

/** R2 parts must be at least 5 MiB (the last excepted) and all but the last the same size. */
export const PART_BYTES = 8 * 1024 * 1024;

const encoder = new TextEncoder();

/**
 * Writes one archive object: lines go through gzip; compressed bytes are
 * uploaded as one `put` when they fit in one part, else as a multipart upload
 * of equal parts, completed only by {@link finish}: until then the object
 * under `key` is the old one (or none), so a run that dies mid-write leaves
 * the archive as it was.
 */
export class ArchiveWriter {
  readonly #bucket: R2Bucket;
  readonly #key: string;
  readonly #metadata: ArchiveMetadata;
  readonly #partBytes: number;
  readonly #input: WritableStreamDefaultWriter<Uint8Array>;
  readonly #drained: Promise<void>;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #upload: R2MultipartUpload | null = null;
  #parts: R2UploadedPart[] = [];
  /** Compressed bytes so far. */
  bytes = 0;

  constructor(bucket: R2Bucket, key: string, metadata: ArchiveMetadata, partBytes = PART_BYTES) {
    this.#bucket = bucket;
    this.#key = key;
    this.#metadata = metadata;
    this.#partBytes = partBytes;
    const gzip = new CompressionStream("gzip");
    this.#input = gzip.writable.getWriter();
    // Read the compressed side while lines are written: without a reader, the stream's queue fills and writes stall.
    this.#drained = this.#drain(gzip.readable.getReader());
  }

  async #drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      this.#chunks.push(next.value);
      this.#buffered += next.value.byteLength;
      this.bytes += next.value.byteLength;
      while (this.#buffered >= this.#partBytes) await this.#uploadPart(this.#take(this.#partBytes));
    }
  }

  /** The first `n` buffered bytes, as one array. */
  #take(n: number): Uint8Array {
    const part = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0] as Uint8Array;
      const used = Math.min(chunk.byteLength, n - filled);
      part.set(chunk.subarray(0, used), filled);
      filled += used;
      if (used === chunk.byteLength) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    this.#buffered -= n;
    return part;
  }

  async #uploadPart(bytes: Uint8Array): Promise<void> {
    this.#upload ??= await this.#bucket.createMultipartUpload(this.#key, this.#options());
    this.#parts.push(await this.#upload.uploadPart(this.#parts.length + 1, bytes));
  }

  #options() {
    return { httpMetadata: { contentType: "application/gzip" }, customMetadata: this.#metadata };
  }

  /** Adds one line (an object, written as one JSON line). */
  async write(line: ArchiveLine | string): Promise<void> {
    await this.#input.write(encoder.encode(`${typeof line === "string" ? line : JSON.stringify(line)}\n`));
  }

  /** Ends the stream and makes the object visible under its key, replacing any older one. */
  async finish(): Promise<{ bytes: number }> {
    await this.#input.close();
    await this.#drained;
    const rest = this.#take(this.#buffered);
    if (this.#upload) {
      if (rest.byteLength > 0) await this.#uploadPart(rest);
      await this.#upload.complete(this.#parts);
    } else {
      await this.#bucket.put(this.#key, rest, this.#options());
    }
    return { bytes: this.bytes };
  }

  /** Gives up: the multipart upload, if any, is aborted and the old object stays. */
  async abort(): Promise<void> {
    await this.#input.abort().catch(() => undefined);
    await this.#drained.catch(() => undefined);
    await this.#upload?.abort().catch(() => undefined);
  }
}

/** The lines of a gzip-compressed NDJSON object, one at a time. */
export async function* archiveLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.pipeThrough(new DecompressionStream("gzip")).pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    pending += next.value;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) if (line !== "") yield line;
  }
  if (pending !== "") yield pending;
}

/** The permit id of an archive line. */
export function lineId(line: string): string {
  return (JSON.parse(line) as ArchiveLine).permit.id;
}
