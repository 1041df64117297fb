// Why a request was refused: every parse failure has a code, and each code one
// HTTP status. The connection answers with that status and closes; nothing of
// the request reaches the app.

const STATUS_OF = {
  BAD_REQUEST_LINE: 400,
  UNKNOWN_METHOD: 501,
  BAD_TARGET: 400,
  BAD_VERSION: 400,
  VERSION_NOT_SUPPORTED: 505,
  HTTP2_PREFACE: 400,
  REQUEST_LINE_TOO_LONG: 414,
  BAD_LINE_ENDING: 400,
  BAD_HEADER_NAME: 400,
  BAD_HEADER_VALUE: 400,
  OBS_FOLD: 400,
  HEADERS_TOO_LARGE: 431,
  TOO_MANY_HEADERS: 431,
  MISSING_HOST: 400,
  DUPLICATE_HOST: 400,
  BAD_HOST: 400,
  BAD_CONTENT_LENGTH: 400,
  DUPLICATE_CONTENT_LENGTH: 400,
  CONTENT_LENGTH_WITH_TRANSFER_ENCODING: 400,
  BAD_TRANSFER_ENCODING: 400,
  UNSUPPORTED_TRANSFER_CODING: 501,
  EXPECTATION_FAILED: 417,
  BODY_TOO_LARGE: 413,
  BAD_CHUNK_SIZE: 400,
  BAD_CHUNK_EXTENSION: 400,
  CHUNK_EXTENSIONS_TOO_LARGE: 413,
  BAD_CHUNK_END: 400,
  FRAMING_HEADER_IN_TRAILERS: 400,
} as const;

export type ParseErrorCode = keyof typeof STATUS_OF;

export class ParseError extends Error {
  readonly status: number;
  constructor(
    readonly code: ParseErrorCode,
    message: string,
  ) {
    super(message);
    this.status = STATUS_OF[code];
  }
}

/**
 * The request body cannot be read to its end, for the client's doing (bad
 * framing, a close before the end): not a failure of the app that read it.
 */
export class RequestBodyError extends Error {}
