// The one error every trace reader throws for malformed input, so that callers can report
// file, position and reason the way compilers do.

/** Malformed trace input: the file, the line (or record) and the reason. */
export class TraceFormatError extends Error {
  /**
   * @param file the trace's path
   * @param line 1-based line number (text formats) or record number (binary formats, where the
   *   reason names the record); 0 when the problem concerns the file as a whole
   * @param reason what is wrong
   */
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
    this.name = 'TraceFormatError';
  }
}

/** A compressed stream that cannot be decoded; readers rethrow it with their position. */
export class CompressedDataError extends Error {
  /**
   * @param cause the decoder's error
   * @param offset bytes decoded before the failure
   */
  constructor(
    cause: unknown,
    readonly offset: number,
  ) {
    super(`corrupt or truncated xz data after ${offset} decompressed bytes (${cause instanceof Error ? cause.message : String(cause)})`);
    this.name = 'CompressedDataError';
  }
}
