// The HTTP/1.1 request parser (RFC 9112): an explicit state machine fed bytes.
// It knows nothing of sockets or apps. The connection feeds it what it reads;
// it reports a request head, body bytes, the end of the message, or an error.
// It never guesses where a request ends: anything outside the grammar, or past
// a limit, is an error, and after an error it reads nothing more.
//
// After a message ends the parser stops (MESSAGE_DONE) and keeps any further
// bytes (pipelined requests) until the connection calls resume(): requests are
// handled one at a time, and after a `close` nothing more is parsed.
//
// The bytes given to execute() are only lent: the connection reads every
// socket into one shared buffer. What the parser hands out is its own (a
// head's fields as a string, body bytes copied), and bytes it has not consumed
// when it stops are copied before it returns. A request that comes whole in
// one read, the common case, is thus never copied as bytes at all.

import { ParseError, type ParseErrorCode } from './errors.js';
import * as syntax from './syntax.js';

export interface ParserLimits {
  /** Request line plus header fields, in bytes (over it: 431). */
  maxHeaderSize: number;
  /** The request line alone, in bytes (over it: 414). */
  maxRequestLine: number;
  /** Number of header fields (over it: 431). */
  maxHeaders: number;
  /** Body bytes after any chunked decoding (over it: 413). */
  maxBodySize: number;
  /** Bytes of chunk extensions in one message (over it: 413). */
  maxChunkExtensions: number;
}

export interface ParserEvents {
  onHead(head: RequestHead): void;
  /** Body bytes, the receiver's to keep: the parser never reuses them. */
  onBody(chunk: Buffer): void;
  onMessageEnd(): void;
  onError(error: ParseError): void;
}

/** A parsed request head. Field names and values stay in the head's one string until asked for. */
export class RequestHead {
  constructor(
    readonly method: string,
    /** The request-target exactly as received. */
    readonly target: string,
    /** HTTP/1.x: 0 or 1. */
    readonly minor: number,
    /** The head as latin1 text (one character per byte), request line and fields, the empty line excluded. */
    readonly raw: string,
    /** Four offsets into `raw` per field: name start, name end, value start, value end. */
    readonly fields: number[],
    readonly host: string | undefined,
    /** -1 when the request has no Content-Length. */
    readonly contentLength: number,
    readonly chunked: boolean,
    /** Whether the client allows the connection to persist after this request. */
    readonly keepAlive: boolean,
    readonly expectContinue: boolean,
    /** `Connection: upgrade` with an `Upgrade` field. */
    readonly upgrade: boolean,
    /** It has a Forwarded or X-Forwarded-For/-Host/-Proto field (see http/forwarded.ts). */
    readonly forwarded: boolean,
  ) {}

  get fieldCount(): number {
    return this.fields.length >> 2;
  }

  get hasBody(): boolean {
    return this.chunked || this.contentLength > 0;
  }

  /** The i-th field name, lower-cased. */
  name(i: number): string {
    const f = this.fields;
    return this.raw.slice(f[4 * i]!, f[4 * i + 1]!).toLowerCase();
  }

  /** The i-th field value, without surrounding whitespace. */
  value(i: number): string {
    const f = this.fields;
    return this.raw.slice(f[4 * i + 2]!, f[4 * i + 3]!);
  }

  /**
   * The values of the fields named `lowerName` (a lower-case token), joined by
   * ", " as Headers.get() joins them; null if there is none. No string is
   * made for the fields that do not match.
   */
  get(lowerName: string): string | null {
    const f = this.fields;
    const raw = this.raw;
    const length = lowerName.length;
    let found: string | null = null;
    for (let i = 0; i < f.length; i += 4) {
      const start = f[i]!;
      if (f[i + 1]! - start !== length) continue;
      let j = 0;
      while (j < length) {
        const b = raw.charCodeAt(start + j);
        if ((b >= 0x41 && b <= 0x5a ? b | 0x20 : b) !== lowerName.charCodeAt(j)) break;
        j++;
      }
      if (j !== length) continue;
      const value = raw.slice(f[i + 2]!, f[i + 3]!);
      found = found === null ? value : `${found}, ${value}`;
    }
    return found;
  }
}

/** The parser's states, named as in RFC 9112. */
export const State = {
  REQUEST_LINE: 0,
  HEADER_FIELDS: 1,
  BODY_LENGTH: 2,
  CHUNK_SIZE: 3,
  CHUNK_DATA: 4,
  CHUNK_DATA_END: 5,
  TRAILER_FIELDS: 6,
  /** One message is complete; waiting for resume(). */
  MESSAGE_DONE: 7,
  /** After an error or stop(): all input is ignored. */
  DEAD: 8,
} as const;
export type State = (typeof State)[keyof typeof State];

/**
 * The methods llhttp knows (the IANA registry as Node ships it). A well-formed
 * method outside this set gets 501 Not Implemented, so we are never laxer than
 * Node's own parser.
 */
export const METHODS: ReadonlySet<string> = new Set([
  'ACL', 'BIND', 'CHECKOUT', 'CONNECT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK', 'M-SEARCH',
  'MERGE', 'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST',
  'PROPFIND', 'PROPPATCH', 'PURGE', 'PUT', 'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE',
  'SUBSCRIBE', 'TRACE', 'UNBIND', 'UNLINK', 'UNLOCK', 'UNSUBSCRIBE',
]);

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

// Module-local names for the shared tables: the per-byte loops read them
// without going through an import binding each time.
const { TOKEN, FIELD_VALUE, HOST_VALUE, byteTable } = syntax;
/** Visible ASCII: what a request-target may hold. */
const TARGET = byteTable((b) => b > 0x20 && b < 0x7f);
/** qdtext and the second byte of a quoted-pair (RFC 9110 §5.6.4). */
const QDTEXT = byteTable((b) => b === HTAB || b === SP || (b >= 0x21 && b !== DQUOTE && b !== BACKSLASH && b !== 0x7f));
const QUOTED_PAIR = byteTable((b) => b === HTAB || (b >= 0x20 && b !== 0x7f));
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let b = 0; b < 256; b++) {
  if (b >= 0x30 && b <= 0x39) HEX_VALUE[b] = b - 0x30;
  else if ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66) HEX_VALUE[b] = (b | 0x20) - 0x61 + 10;
}

const bytesOf = (s: string) => Buffer.from(s, 'latin1');
const HOST = bytesOf('host');
const EXPECT = bytesOf('expect');
const UPGRADE = bytesOf('upgrade');
const CONNECTION = bytesOf('connection');
const PROXY_CONNECTION = bytesOf('proxy-connection');
const CONTENT_LENGTH = bytesOf('content-length');
const TRANSFER_ENCODING = bytesOf('transfer-encoding');
const CLOSE = bytesOf('close');
const KEEP_ALIVE = bytesOf('keep-alive');
const CHUNKED = bytesOf('chunked');
const CONTINUE = bytesOf('100-continue');
const FORWARDED = bytesOf('forwarded');
const X_FORWARDED_FOR = bytesOf('x-forwarded-for');
const X_FORWARDED_HOST = bytesOf('x-forwarded-host');
const X_FORWARDED_PROTO = bytesOf('x-forwarded-proto');

/** Names longer than this are none of the fields framingField() notes. */
const NOTED_NAME_MAX = TRANSFER_ENCODING.length;
/**
 * By name length and first byte (lower-cased), `length << 8 | byte`: 1 where
 * a field framingField() notes has that length and first byte. A name that
 * has no 1 is not one, and most are told apart by this alone.
 */
const NOTED_FIRST_BYTE = new Uint8Array((NOTED_NAME_MAX + 1) << 8);
for (const name of [HOST, EXPECT, UPGRADE, CONNECTION, CONTENT_LENGTH, PROXY_CONNECTION, TRANSFER_ENCODING, FORWARDED, X_FORWARDED_FOR, X_FORWARDED_HOST, X_FORWARDED_PROTO]) {
  NOTED_FIRST_BYTE[(name.length << 8) | name[0]!] = 1;
}

/** Case-insensitive match of buf[start, end) against a lower-case ASCII word (for tchar bytes). */
function isWord(buf: Buffer, start: number, end: number, word: Buffer): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if ((buf[start + i]! | 0x20) !== word[i]) return false;
  return true;
}

function fail(code: ParseErrorCode, message: string): never {
  throw new ParseError(code, message);
}

/** Calls `each(start, end)` for every element of a comma-separated list in buf[start, end), OWS trimmed, empty ones skipped. */
function forEachListElement(buf: Buffer, start: number, end: number, each: (s: number, e: number) => void): void {
  let s = start;
  while (s < end) {
    let comma = buf.indexOf(COMMA, s);
    if (comma === -1 || comma > end) comma = end;
    let a = s;
    let b = comma;
    while (a < b && (buf[a] === SP || buf[a] === HTAB)) a++;
    while (b > a && (buf[b - 1] === SP || buf[b - 1] === HTAB)) b--;
    if (a < b) each(a, b);
    s = comma + 1;
  }
}

/** Whether a tab comes in the whitespace after buf[end - 1], before the next comma or the line end. */
function tabFollows(buf: Buffer, end: number, lineEnd: number): boolean {
  for (let i = end; i < lineEnd && buf[i] !== COMMA; i++) if (buf[i] === HTAB) return true;
  return false;
}

const EMPTY = Buffer.alloc(0);
const NO_FIELDS: number[] = [];
/** Longest chunk-size we accept, in hex digits after leading zeros (2^52). */
const MAX_CHUNK_SIZE = 2 ** 52;

export class RequestParser {
  state: State = State.REQUEST_LINE;

  // Input. `buf` holds unconsumed bytes from `pos`; in the head and trailer
  // states `pos` stays at the section's first byte until the section ends.
  private buf: Buffer = EMPTY;
  /**
   * Our own growable copy of the input, `buf` a view of its start; null while
   * `buf` is the chunk execute() was lent.
   */
  private spare: Buffer | null = null;
  private pos = 0;
  private lineStart = 0;
  /** How far the current line has been searched for LF already. */
  private scanned = 0;
  private running = false;

  // The message being parsed.
  private method = '';
  private target = '';
  private minor = 1;
  private fields: number[] = NO_FIELDS;
  private hostCount = 0;
  // Field offsets are relative to the head's first byte (`pos`), like `fields`:
  // append() may move the head to a new buffer before it is complete.
  private hostStart = 0;
  private hostEnd = 0;
  /** The last valid Host value: a client sends the same one with each request. */
  private lastHost = '';
  private contentLength = -1;
  private transferEncoding = false;
  private chunkedLast = false;
  private otherCoding = false;
  private connectionClose = false;
  private connectionKeepAlive = false;
  private connectionUpgrade = false;
  private upgradeField = false;
  /** A Forwarded or X-Forwarded-* field was seen. */
  private forwardingField = false;
  private expectStart = -1;
  private expectEnd = -1;
  private bodyRemaining = 0;
  private bodyBytes = 0;
  private extensionBytes = 0;
  /** What was read of the request line when the parser failed (see lineRead). */
  private failedLine = '';

  constructor(
    private readonly limits: ParserLimits,
    private readonly events: ParserEvents,
  ) {}

  /** Bytes received but not yet consumed (pipelined requests waiting, a partial head). */
  get buffered(): number {
    return this.buf.length - this.pos;
  }

  /**
   * What was read of the current request line, up to its end or the request-line limit: for the
   * log of a request refused before its head was whole (after an error, as it was then).
   */
  get lineRead(): string {
    return this.state === State.DEAD ? this.failedLine : this.readLine();
  }

  private readLine(): string {
    const buf = this.buf;
    let end = Math.min(buf.length, this.pos + this.limits.maxRequestLine);
    for (let i = this.pos; i < end; i++) {
      if (buf[i] === CR || buf[i] === LF) end = i;
    }
    return buf.toString('latin1', this.pos, end);
  }

  /** Parses `chunk`, which is lent: it may be overwritten once this returns. */
  execute(chunk: Buffer): void {
    if (this.state === State.DEAD || chunk.length === 0) return;
    this.append(chunk);
    if (!this.running) this.run();
  }

  /** After MESSAGE_DONE: parse the next request from what is buffered and what comes. */
  resume(): void {
    if (this.state !== State.MESSAGE_DONE) return;
    this.state = State.REQUEST_LINE;
    this.lineStart = this.scanned = this.pos;
    if (!this.running) this.run();
  }

  /**
   * After a message whose connection then changes protocol (an upgrade):
   * parses nothing more and gives up the bytes received after the message,
   * unparsed, as the new protocol's first (the parser's own: never lent).
   */
  detach(): Buffer {
    const rest = this.state === State.MESSAGE_DONE ? this.buf.subarray(this.pos) : EMPTY;
    this.stop();
    return rest;
  }

  /** Ignore all further input (the connection is closing). */
  stop(): void {
    this.state = State.DEAD;
    this.buf = EMPTY;
    this.spare = null;
    this.pos = this.lineStart = this.scanned = 0;
  }

  private append(chunk: Buffer): void {
    const buf = this.buf;
    const left = buf.length - this.pos;
    if (left === 0) {
      this.rebase(chunk, null);
      return;
    }
    const spare = this.spare;
    if (spare !== null && spare.length - buf.length >= chunk.length) {
      // Only bytes past the end are written: views handed out stay intact.
      chunk.copy(spare, buf.length);
      this.buf = spare.subarray(0, buf.length + chunk.length);
      return;
    }
    const grown = Buffer.allocUnsafe(Math.max(2 * (left + chunk.length), 4096));
    buf.copy(grown, 0, this.pos);
    chunk.copy(grown, left);
    this.rebase(grown.subarray(0, left + chunk.length), grown);
  }

  /** Moves the unconsumed bytes' positions onto a new buffer that starts with them. */
  private rebase(buf: Buffer, spare: Buffer | null): void {
    const shift = this.pos;
    this.buf = buf;
    this.spare = spare;
    this.pos = 0;
    this.lineStart -= shift;
    this.scanned -= shift;
  }

  private run(): void {
    this.running = true;
    try {
      for (;;) {
        let progressed: boolean;
        switch (this.state) {
          case State.REQUEST_LINE:
            progressed = this.requestLine();
            break;
          case State.HEADER_FIELDS:
          case State.TRAILER_FIELDS:
            progressed = this.fieldLine();
            break;
          case State.BODY_LENGTH:
          case State.CHUNK_DATA:
            progressed = this.bodyData();
            break;
          case State.CHUNK_SIZE:
            progressed = this.chunkSize();
            break;
          case State.CHUNK_DATA_END:
            progressed = this.chunkDataEnd();
            break;
          default:
            progressed = false;
        }
        if (!progressed) break;
      }
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      this.failedLine = this.readLine();
      this.stop();
      this.events.onError(error);
    } finally {
      this.running = false;
      this.keepOnlyOwnInput();
    }
  }

  /** After a run: nothing of a lent chunk is kept, and nothing consumed either. */
  private keepOnlyOwnInput(): void {
    if (this.state === State.DEAD) return;
    if (this.pos === this.buf.length) {
      this.buf = EMPTY;
      this.spare = null;
      this.pos = this.lineStart = this.scanned = 0;
    } else if (this.spare === null) {
      // The rest of a lent chunk (a partial head, a pipelined request) is kept as a copy.
      const rest = Buffer.from(this.buf.subarray(this.pos));
      this.rebase(rest, rest);
    }
  }

  /**
   * Finds the LF ending the current line, or -1 when it has not all arrived.
   * Nothing of a partial line is checked here: the search resumes where the
   * last one stopped, and a line's bytes are validated once it is whole. Of a
   * partial line, callers check only its length against the limits (so that an
   * overlong line fails without waiting for its end) and its first byte (a bare
   * LF, or whitespace before a field).
   */
  private findLineEnd(): number {
    const buf = this.buf;
    const lf = buf.indexOf(LF, this.scanned);
    if (lf === -1) this.scanned = buf.length;
    return lf;
  }

  private requestLine(): boolean {
    const buf = this.buf;
    let p = this.pos;
    // A server ignores empty lines before a request line (RFC 9112 §2.2).
    while (p + 1 < buf.length && buf[p] === CR && buf[p + 1] === LF) p += 2;
    if (p !== this.pos) this.pos = this.lineStart = this.scanned = p;
    if (p === buf.length) return false;
    if (buf[p] === LF) fail('BAD_LINE_ENDING', 'bare LF before the request line');

    const lf = this.findLineEnd();
    const limit = Math.min(this.limits.maxRequestLine, this.limits.maxHeaderSize);
    const length = (lf === -1 ? buf.length - 1 : lf - 1) - p; // without CRLF
    if (length > limit) {
      if (length > this.limits.maxRequestLine) fail('REQUEST_LINE_TOO_LONG', 'request line too long');
      fail('HEADERS_TOO_LARGE', 'request head too large');
    }
    if (lf === -1) return false;
    const end = lf - 1;
    if (buf[end] !== CR) fail('BAD_LINE_ENDING', 'request line not ended by CRLF');

    let i = p;
    while (i < end && TOKEN[buf[i]!]) i++;
    if (i === p || i === end || buf[i] !== SP) fail('BAD_REQUEST_LINE', 'malformed request line');
    const methodEnd = i++;
    const targetStart = i;
    while (i < end && TARGET[buf[i]!]) i++;
    if (i === targetStart) fail('BAD_REQUEST_LINE', 'malformed request line');
    if (i === end) fail('BAD_VERSION', 'no HTTP version (HTTP/0.9 is not served)');
    if (buf[i] !== SP) fail('BAD_TARGET', 'invalid byte in the request-target');
    const targetEnd = i++;
    if (
      end - i !== 8 ||
      buf[i] !== 0x48 || buf[i + 1] !== 0x54 || buf[i + 2] !== 0x54 || buf[i + 3] !== 0x50 || buf[i + 4] !== 0x2f ||
      buf[i + 6] !== 0x2e || !isDigit(buf[i + 5]!) || !isDigit(buf[i + 7]!)
    ) {
      fail('BAD_VERSION', 'malformed HTTP version');
    }
    const major = buf[i + 5]! - 0x30;
    const minor = buf[i + 7]! - 0x30;
    const method = methodName(buf, p, methodEnd);
    // (A client asking for the same target again gets the same string.)
    const target = sameOrSlice(buf, targetStart, targetEnd, this.target);
    if (major === 2 && minor === 0 && method === 'PRI') fail('HTTP2_PREFACE', 'HTTP/2 connection preface');
    if (major !== 1 || minor > 1) fail('VERSION_NOT_SUPPORTED', `HTTP/${major}.${minor} is not supported`);
    if (!METHODS.has(method)) fail('UNKNOWN_METHOD', 'unknown method');
    checkTargetForm(method, target);

    this.method = method;
    this.target = target;
    this.minor = minor;
    this.startFields();
    this.lineStart = this.scanned = lf + 1;
    this.state = State.HEADER_FIELDS;
    return true;
  }

  private startFields(): void {
    this.fields = [];
    this.hostCount = 0;
    this.contentLength = -1;
    this.transferEncoding = this.chunkedLast = this.otherCoding = false;
    this.connectionClose = this.connectionKeepAlive = this.connectionUpgrade = this.upgradeField = this.forwardingField = false;
    this.expectStart = this.expectEnd = -1;
    this.bodyBytes = this.extensionBytes = 0;
  }

  /** One header or trailer field line, or the empty line ending the section. */
  private fieldLine(): boolean {
    const buf = this.buf;
    const start = this.lineStart;
    const trailers = this.state === State.TRAILER_FIELDS;
    if (start === buf.length) return false;
    const first = buf[start]!;
    if (first === CR) {
      if (start + 1 === buf.length) return false;
      if (buf[start + 1] !== LF) fail('BAD_LINE_ENDING', 'bare CR in the header section');
      this.checkSectionSize(start + 2, trailers);
      return trailers ? this.endTrailers(start + 2) : this.endHead(start, start + 2);
    }
    if (first === LF) fail('BAD_LINE_ENDING', 'bare LF in the header section');
    if (first === SP || first === HTAB) fail('OBS_FOLD', 'line folding or whitespace before a field');

    // The common case in one pass: a well-formed line, complete in the buffer.
    const length = buf.length;
    let i = start;
    while (i < length && TOKEN[buf[i]!] === 1) i++;
    if (i !== start && i < length && buf[i] === COLON) {
      const nameEnd = i++;
      while (i < length && (buf[i] === SP || buf[i] === HTAB)) i++;
      const valueStart = i;
      for (;;) {
        // Visible ASCII and SP, by range (most value bytes); then the table for the rest.
        while (i < length && ((buf[i]! - 0x20) >>> 0) < 0x5f) i++;
        if (i < length && FIELD_VALUE[buf[i]!] === 1) i++;
        else break;
      }
      if (i + 1 < length && buf[i] === CR && buf[i + 1] === LF) return this.fieldDone(buf, start, nameEnd, valueStart, i, trailers);
    }
    return this.slowFieldLine(buf, start, trailers);
  }

  private slowFieldLine(buf: Buffer, start: number, trailers: boolean): boolean {
    const lf = this.findLineEnd();
    this.checkSectionSize(lf === -1 ? buf.length : lf + 1, trailers);
    if (lf === -1) return false;
    const end = lf - 1;
    if (buf[end] !== CR) fail('BAD_LINE_ENDING', 'field line not ended by CRLF');

    let i = start;
    while (i < end && TOKEN[buf[i]!]) i++;
    if (i === start || buf[i] !== COLON) fail('BAD_HEADER_NAME', 'invalid field name');
    const nameEnd = i++;
    while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
    const valueStart = i;
    for (; i < end; i++) if (FIELD_VALUE[buf[i]!] === 0) fail('BAD_HEADER_VALUE', 'invalid byte in a field value');
    return this.fieldDone(buf, start, nameEnd, valueStart, end, trailers);
  }

  private fieldDone(buf: Buffer, start: number, nameEnd: number, valueStart: number, end: number, trailers: boolean): boolean {
    this.checkSectionSize(end + 2, trailers);
    let valueEnd = end;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;

    if (trailers) {
      if (isWord(buf, start, nameEnd, CONTENT_LENGTH) || isWord(buf, start, nameEnd, TRANSFER_ENCODING)) {
        fail('FRAMING_HEADER_IN_TRAILERS', 'framing field in the trailer section');
      }
    } else {
      if (this.fields.length >= 4 * this.limits.maxHeaders) fail('TOO_MANY_HEADERS', 'too many header fields');
      const o = this.pos;
      this.fields.push(start - o, nameEnd - o, valueStart - o, valueEnd - o);
      const nameLength = nameEnd - start;
      if (nameLength <= NOTED_NAME_MAX && NOTED_FIRST_BYTE[(nameLength << 8) | (buf[start]! | 0x20)] === 1) {
        this.framingField(buf, start, nameEnd, valueStart, valueEnd, end);
      }
    }
    this.lineStart = this.scanned = end + 2;
    return true;
  }

  private checkSectionSize(upTo: number, trailers: boolean): void {
    if (upTo - this.pos > this.limits.maxHeaderSize) {
      if (trailers) fail('HEADERS_TOO_LARGE', 'trailer section too large');
      fail('HEADERS_TOO_LARGE', 'request head too large');
    }
  }

  /** Notes the fields that decide framing and persistence, and whether a forwarding one came. */
  private framingField(buf: Buffer, start: number, nameEnd: number, vs: number, ve: number, lineEnd: number): void {
    switch (nameEnd - start) {
      case 4:
        if (isWord(buf, start, nameEnd, HOST)) {
          this.hostCount++;
          this.hostStart = vs - this.pos;
          this.hostEnd = ve - this.pos;
        }
        break;
      case 6:
        if (isWord(buf, start, nameEnd, EXPECT)) {
          if (this.expectStart !== -1) fail('EXPECTATION_FAILED', 'more than one Expect field');
          this.expectStart = vs - this.pos;
          this.expectEnd = ve - this.pos;
        }
        break;
      case 9:
        if (isWord(buf, start, nameEnd, FORWARDED)) this.forwardingField = true;
        break;
      case 15:
        if (isWord(buf, start, nameEnd, X_FORWARDED_FOR)) this.forwardingField = true;
        break;
      case 7:
        // An empty Upgrade offers no protocol (and llhttp does not count it).
        if (isWord(buf, start, nameEnd, UPGRADE) && ve > vs) this.upgradeField = true;
        break;
      case 10:
        if (isWord(buf, start, nameEnd, CONNECTION)) this.connectionOptions(buf, vs, ve, lineEnd);
        break;
      case 14:
        if (isWord(buf, start, nameEnd, CONTENT_LENGTH)) {
          if (this.contentLength !== -1) fail('DUPLICATE_CONTENT_LENGTH', 'more than one Content-Length');
          // llhttp refuses a tab after the digits (only spaces may follow them); so do we.
          for (let i = ve; i < lineEnd; i++) if (buf[i] === HTAB) fail('BAD_CONTENT_LENGTH', 'tab after Content-Length');
          this.contentLength = parseDecimal(buf, vs, ve);
        }
        break;
      case 16:
        // Not in any RFC, but llhttp reads it as Connection: so must we, or
        // the two would disagree on where the connection's requests end.
        if (isWord(buf, start, nameEnd, PROXY_CONNECTION)) this.connectionOptions(buf, vs, ve, lineEnd);
        else if (isWord(buf, start, nameEnd, X_FORWARDED_HOST)) this.forwardingField = true;
        break;
      case 17:
        if (isWord(buf, start, nameEnd, TRANSFER_ENCODING)) {
          // Whitespace after the last coding hides `chunked` from some parsers
          // (llhttp refuses a tab there but serves a space): refuse both.
          if (ve !== lineEnd) fail('BAD_TRANSFER_ENCODING', 'whitespace after Transfer-Encoding');
          // An empty field names no coding; beside another one it is a TE.TE trick (later llhttp refuses it too).
          if (vs === ve) fail('BAD_TRANSFER_ENCODING', 'empty Transfer-Encoding');
          this.transferEncoding = true;
          let afterChunked = this.chunkedLast ? vs : -1;
          forEachListElement(buf, vs, ve, (s, e) => {
            if (this.chunkedLast) fail('BAD_TRANSFER_ENCODING', 'a coding after chunked');
            for (let i = s; i < e; i++) if (!TOKEN[buf[i]!]) fail('BAD_TRANSFER_ENCODING', 'malformed transfer coding');
            if (isWord(buf, s, e, CHUNKED)) {
              this.chunkedLast = true;
              afterChunked = e;
            } else {
              this.otherCoding = true;
            }
          });
          // Nor may the list go on with empty elements (`chunked,`): llhttp refuses that too.
          if (afterChunked !== -1) {
            for (let i = afterChunked; i < ve; i++) if (buf[i] === COMMA) fail('BAD_TRANSFER_ENCODING', 'a list going on after chunked');
          }
        } else if (isWord(buf, start, nameEnd, X_FORWARDED_PROTO)) {
          this.forwardingField = true;
        }
        break;
    }
  }

  /** Notes close, keep-alive and upgrade in a Connection (or Proxy-Connection) value. */
  private connectionOptions(buf: Buffer, vs: number, ve: number, lineEnd: number): void {
    forEachListElement(buf, vs, ve, (s, e) => {
      if (isWord(buf, s, e, CLOSE)) this.connectionClose = true;
      // llhttp does not see an option followed by a tab (`keep-alive\t`):
      // closing anyway is safe, but keeping the connection or upgrading it
      // where llhttp would not is not.
      else if (tabFollows(buf, e, lineEnd)) return;
      else if (isWord(buf, s, e, KEEP_ALIVE)) this.connectionKeepAlive = true;
      else if (isWord(buf, s, e, UPGRADE)) this.connectionUpgrade = true;
    });
  }

  private endHead(emptyLine: number, bodyStart: number): boolean {
    const buf = this.buf;
    const head = this.pos;
    let host: string | undefined;
    if (this.hostCount > 1) fail('DUPLICATE_HOST', 'more than one Host field');
    if (this.hostCount === 1) {
      host = sameOrSlice(buf, head + this.hostStart, head + this.hostEnd, this.lastHost);
      if (host !== this.lastHost) {
        if (!HOST_VALUE.test(host)) fail('BAD_HOST', 'invalid Host value');
        this.lastHost = host;
      }
    } else if (this.minor === 1) {
      fail('MISSING_HOST', 'HTTP/1.1 request without Host');
    }
    // A CONNECT request has no content (RFC 9110 §9.3.6): after its head the
    // connection is a tunnel, and llhttp never reads a body there. Framing
    // fields would make a body of tunnel bytes, or tunnel bytes of a body.
    if (this.method === 'CONNECT') {
      if (this.transferEncoding) fail('BAD_TRANSFER_ENCODING', 'Transfer-Encoding on CONNECT');
      if (this.contentLength > 0) fail('BAD_CONTENT_LENGTH', 'content on CONNECT');
    }
    let chunked = false;
    let keepAlive = this.minor === 1 ? !this.connectionClose : this.connectionKeepAlive && !this.connectionClose;
    if (this.transferEncoding) {
      if (this.contentLength !== -1) fail('CONTENT_LENGTH_WITH_TRANSFER_ENCODING', 'both Content-Length and Transfer-Encoding');
      if (!this.chunkedLast) fail('BAD_TRANSFER_ENCODING', 'chunked is not the final transfer coding');
      if (this.otherCoding) fail('UNSUPPORTED_TRANSFER_CODING', 'transfer coding other than chunked');
      chunked = true;
      // An HTTP/1.0 message with Transfer-Encoding has faulty framing: serve it, then close (RFC 9112 §6.1).
      if (this.minor === 0) keepAlive = false;
    }
    let expectContinue = false;
    if (this.expectStart !== -1) {
      if (!isWord(buf, head + this.expectStart, head + this.expectEnd, CONTINUE)) fail('EXPECTATION_FAILED', 'unsupported expectation');
      // A server ignores 100-continue from an HTTP/1.0 client (RFC 9110 §10.1.1).
      expectContinue = this.minor === 1;
    }
    if (this.contentLength > this.limits.maxBodySize) fail('BODY_TOO_LARGE', 'Content-Length over the body size limit');

    const requestHead = new RequestHead(
      this.method,
      this.target,
      this.minor,
      buf.latin1Slice(head, emptyLine),
      this.fields,
      host,
      this.contentLength,
      chunked,
      keepAlive,
      expectContinue,
      this.connectionUpgrade && this.upgradeField,
      this.forwardingField,
    );
    // The head owns the list now. A parser waiting for the connection's next
    // request must not keep it alive: it would survive young-generation GCs
    // (64 busy connections' worth grew the worker's heap by 16 MB).
    this.fields = NO_FIELDS;
    this.pos = this.lineStart = this.scanned = bodyStart;
    if (chunked) {
      this.state = State.CHUNK_SIZE;
    } else if (this.contentLength > 0) {
      this.bodyRemaining = this.contentLength;
      this.state = State.BODY_LENGTH;
    } else {
      this.state = State.MESSAGE_DONE;
    }
    this.events.onHead(requestHead);
    if (this.state === State.MESSAGE_DONE && !requestHead.hasBody) this.events.onMessageEnd();
    return true;
  }

  private bodyData(): boolean {
    const buf = this.buf;
    const available = buf.length - this.pos;
    if (available === 0) return false;
    const n = Math.min(available, this.bodyRemaining);
    const bytes = buf.subarray(this.pos, this.pos + n);
    // Bytes of a lent chunk are copied: the reader may keep them.
    const chunk = this.spare === null ? Buffer.from(bytes) : bytes;
    this.pos += n;
    this.bodyRemaining -= n;
    const done = this.bodyRemaining === 0;
    if (done) {
      if (this.state === State.CHUNK_DATA) this.state = State.CHUNK_DATA_END;
      else this.state = State.MESSAGE_DONE;
    }
    const ended = this.state === State.MESSAGE_DONE;
    this.events.onBody(chunk);
    if (ended && this.state === State.MESSAGE_DONE) this.events.onMessageEnd();
    return true;
  }

  private chunkSize(): boolean {
    const buf = this.buf;
    const start = this.lineStart;
    const lf = this.findLineEnd();
    // The line may only be as long as sizes and extensions allow. Whether it is
    // too long, and why, is decided on its first `limit + 1` bytes alone, the
    // same with or without its end: else the error would depend on how the
    // bytes arrive.
    const limit = 64 + this.limits.maxChunkExtensions - this.extensionBytes;
    if ((lf === -1 ? buf.length : lf) - start > limit) {
      const semicolon = buf.indexOf(SEMICOLON, start);
      if (semicolon !== -1 && semicolon <= start + limit) fail('CHUNK_EXTENSIONS_TOO_LARGE', 'chunk extensions too large');
      fail('BAD_CHUNK_SIZE', 'chunk-size line too long');
    }
    if (lf === -1) return false;
    const end = lf - 1;
    if (lf === start || buf[end] !== CR) fail('BAD_LINE_ENDING', 'chunk-size line not ended by CRLF');
    let i = start;
    let size = 0;
    for (; i < end; i++) {
      const digit = HEX_VALUE[buf[i]!]!;
      if (digit < 0) break;
      size = size * 16 + digit;
      if (size > MAX_CHUNK_SIZE) fail('BAD_CHUNK_SIZE', 'chunk size too large');
    }
    if (i === start) fail('BAD_CHUNK_SIZE', 'invalid chunk size');
    if (i < end) {
      if (buf[i] !== SEMICOLON) fail('BAD_CHUNK_SIZE', 'invalid chunk size');
      this.extensionBytes += end - i;
      if (this.extensionBytes > this.limits.maxChunkExtensions) fail('CHUNK_EXTENSIONS_TOO_LARGE', 'chunk extensions too large');
      checkChunkExtensions(buf, i, end);
    }
    this.pos = this.lineStart = this.scanned = lf + 1;
    if (size === 0) {
      this.state = State.TRAILER_FIELDS;
      return true;
    }
    this.bodyBytes += size;
    if (this.bodyBytes > this.limits.maxBodySize) fail('BODY_TOO_LARGE', 'body over the size limit');
    this.bodyRemaining = size;
    this.state = State.CHUNK_DATA;
    return true;
  }

  private chunkDataEnd(): boolean {
    const buf = this.buf;
    const p = this.pos;
    if (p === buf.length) return false;
    if (buf[p] !== CR) fail('BAD_CHUNK_END', 'chunk data not followed by CRLF');
    if (p + 1 === buf.length) return false;
    if (buf[p + 1] !== LF) fail('BAD_CHUNK_END', 'chunk data not followed by CRLF');
    this.pos = this.lineStart = this.scanned = p + 2;
    this.state = State.CHUNK_SIZE;
    return true;
  }

  private endTrailers(end: number): boolean {
    this.pos = this.lineStart = this.scanned = end;
    this.state = State.MESSAGE_DONE;
    this.events.onMessageEnd();
    return true;
  }
}

/** buf[start, end) as a latin1 string: `last` itself if it holds the same bytes (no new string, and its checks are made). */
function sameOrSlice(buf: Buffer, start: number, end: number, last: string): string {
  const length = end - start;
  if (length !== last.length) return buf.latin1Slice(start, end);
  for (let i = 0; i < length; i++) if (buf[start + i] !== last.charCodeAt(i)) return buf.latin1Slice(start, end);
  return last;
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** Methods as shared strings for the common ones; a fresh string otherwise. */
function methodName(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  const b0 = buf[start];
  if (n === 3 && b0 === 0x47 && buf[start + 1] === 0x45 && buf[start + 2] === 0x54) return 'GET';
  if (n === 4 && b0 === 0x50 && buf[start + 1] === 0x4f && buf[start + 2] === 0x53 && buf[start + 3] === 0x54) return 'POST';
  return buf.latin1Slice(start, end);
}

// The authority's characters: unreserved, sub-delims, ":" and "%" (RFC 3986
// §3.2), and the brackets of an IP-literal. llhttp refuses any other (`\`,
// `"`, `{`, `#`...) there, though they are fine in a path or query.
const AUTHORITY_FORM = /^[A-Za-z0-9\-._~!$&'()*+,;=%:[\]]+:[0-9]+$/;
/** http(s)://, an optional userinfo, a host, then the end, a path or a query. */
const ABSOLUTE_FORM = /^https?:\/\/(?:[A-Za-z0-9\-._~!$&'()*+,;=%:[\]]*@)?[A-Za-z0-9\-._~!$&'()*+,;=%:[\]]+(?:[/?]|$)/i;

/** The request-target forms of RFC 9112 §3.2, each only where it belongs. */
function checkTargetForm(method: string, target: string): void {
  if (method === 'CONNECT') {
    if (!AUTHORITY_FORM.test(target)) fail('BAD_TARGET', 'CONNECT needs an authority-form target');
    return;
  }
  const first = target.charCodeAt(0);
  if (first === 0x2f) return; // origin-form
  if (target === '*') {
    if (method !== 'OPTIONS') fail('BAD_TARGET', 'asterisk-form is only for OPTIONS');
    return;
  }
  if (!ABSOLUTE_FORM.test(target)) fail('BAD_TARGET', 'invalid request-target');
}

/** Content-Length = 1*DIGIT (RFC 9110 §8.6); no sign, no list, no overflow. */
function parseDecimal(buf: Buffer, start: number, end: number): number {
  if (start === end) fail('BAD_CONTENT_LENGTH', 'empty Content-Length');
  let n = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (!isDigit(b)) fail('BAD_CONTENT_LENGTH', 'invalid Content-Length');
    n = n * 10 + (b - 0x30);
    if (n > Number.MAX_SAFE_INTEGER) fail('BAD_CONTENT_LENGTH', 'Content-Length too large');
  }
  return n;
}

/** chunk-ext = *( ";" token [ "=" ( token / quoted-string ) ] ), no whitespace (as llhttp). */
function checkChunkExtensions(buf: Buffer, start: number, end: number): void {
  let i = start;
  while (i < end) {
    if (buf[i] !== SEMICOLON) fail('BAD_CHUNK_EXTENSION', 'malformed chunk extension');
    const nameStart = ++i;
    while (i < end && TOKEN[buf[i]!]) i++;
    if (i === nameStart) fail('BAD_CHUNK_EXTENSION', 'malformed chunk extension');
    if (i === end || buf[i] !== EQUALS) continue;
    i++;
    if (buf[i] === DQUOTE) {
      i++;
      for (;;) {
        if (i >= end) fail('BAD_CHUNK_EXTENSION', 'unterminated quoted chunk extension');
        const b = buf[i]!;
        if (b === DQUOTE) {
          i++;
          break;
        }
        if (b === BACKSLASH) {
          if (i + 1 >= end || !QUOTED_PAIR[buf[i + 1]!]) fail('BAD_CHUNK_EXTENSION', 'malformed quoted-pair');
          i += 2;
        } else if (QDTEXT[b]) {
          i++;
        } else {
          fail('BAD_CHUNK_EXTENSION', 'invalid byte in a chunk extension');
        }
      }
    } else {
      const valueStart = i;
      while (i < end && TOKEN[buf[i]!]) i++;
      if (i === valueStart) fail('BAD_CHUNK_EXTENSION', 'malformed chunk extension');
    }
  }
}
