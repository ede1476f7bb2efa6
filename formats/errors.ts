/** Stable error codes of the formats layer; tests assert on `code`, the README lists them all. */
export type FormatErrorCode =
  | 'STORE_VERSION'      // store written by a newer dashcam
  | 'STORE_CORRUPT'      // LevelDB reports corruption, or a record cannot be decoded
  | 'STORE_LOCKED'       // another process holds the store and offers no query socket
  | 'STORE_NOT_FOUND'    // no store at that path
  | 'STORE_PERMISSION'   // the store's files are not readable by this user
  | 'STORE_IO'           // any other failure to open, read or write
  | 'DECODE'             // a value does not decode into an event of a known kind
  | 'BAD_ARGUMENT'
  | 'BUNDLE_CORRUPT'     // not a readable bundle: empty, truncated, random bytes, unsafe tar entries
  | 'BUNDLE_VERSION'     // bundle written in a newer bundle format than this dashcam reads
  | 'BUNDLE_TAMPERED'    // a part does not match the SHA-256 (or size) the manifest lists
  | 'BUNDLE_SIGNATURE'   // signature missing, malformed, or not made by the given key
  | 'BUNDLE_KEY';        // a key file that is not an Ed25519 PEM key

export class FormatError extends Error {
  readonly code: FormatErrorCode;
  constructor(code: FormatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FormatError';
    this.code = code;
  }
}
