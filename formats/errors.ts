/** Stable error codes of the formats layer; tests assert on `code`, the README lists them all. */
export type FormatErrorCode =
  | 'STORE_VERSION'      // store written by a newer dashcam
  | 'STORE_CORRUPT'      // LevelDB reports corruption, or a record cannot be decoded
  | 'STORE_LOCKED'       // another process holds the store and offers no query socket
  | 'STORE_NOT_FOUND'    // no store at that path
  | 'STORE_IO'           // any other failure to open, read or write
  | 'DECODE'             // a value does not decode into an event of a known kind
  | 'BAD_ARGUMENT';

export class FormatError extends Error {
  readonly code: FormatErrorCode;
  constructor(code: FormatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FormatError';
    this.code = code;
  }
}
