// Response bytes: the status line, the header section with the framing fields
// the server owns (Content-Length, Transfer-Encoding, Connection, Date,
// Server), and chunked-coding frames. App-supplied framing fields never reach
// the wire as given, and a name or value that could split the response is
// refused before anything is written.

import { loopNow } from './clock.js';
import { STATUS_REASONS } from './status.js';
import { isUnsafeValue, lowerCaseToken } from './syntax.js';

/** Thrown for a header the app set that must not be written (CR, LF, NUL, a bad name). */
export class InvalidHeaderError extends Error {}

/** How the body of a response is delimited. */
export const Framing = {
  /** No body at all: HEAD, 1xx, 204, 304. */
  NONE: 0,
  LENGTH: 1,
  CHUNKED: 2,
  /** HTTP/1.0 and an unknown length: the body ends when the connection closes. */
  CLOSE: 3,
} as const;
export type Framing = (typeof Framing)[keyof typeof Framing];

let dateLine = '';
let dateExpires = 0;
/** The Date field line for now (an IMF-fixdate), made at most once a second. */
function currentDateLine(): string {
  const now = loopNow();
  if (now >= dateExpires) {
    dateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
    dateExpires = now - (now % 1000) + 1000;
  }
  return dateLine;
}

let serverLineFor = '';
let serverLine = '';
/** The Server field line for `serverSoftware` (the same one every time: made once). */
function serverLineOf(serverSoftware: string): string {
  if (serverSoftware !== serverLineFor) {
    serverLineFor = serverSoftware;
    serverLine = `Server: ${serverSoftware}\r\n`;
  }
  return serverLine;
}

/** Status lines made so far, by status ('': not yet). */
const STATUS_LINES: string[] = new Array<string>(600).fill('');
function statusLine(status: number): string {
  const made = STATUS_LINES[status];
  if (made) return made;
  const line = `HTTP/1.1 ${status} ${STATUS_REASONS[status] ?? ''}\r\n`;
  if (status < STATUS_LINES.length) STATUS_LINES[status] = line;
  return line;
}

/** Whether a response with this status to this method carries no body (RFC 9110 §6.4.1). */
export function isBodiless(method: string, status: number): boolean {
  return method === 'HEAD' || status < 200 || status === 204 || status === 304;
}

export interface HeadSpec {
  status: number;
  /** The app's header fields (see fieldBlock()). */
  block: FieldBlock;
  framing: Framing;
  /** The body length for Framing.LENGTH; for HEAD, the length a GET would have had, or -1. */
  length: number;
  /** Whether this response ends the connection (`Connection: close`). */
  close: boolean;
  /** HTTP/1.0 client keeping the connection: say `Connection: keep-alive`. */
  keepAliveHeader: boolean;
  serverSoftware: string;
}

/** The app's own framing and hop-by-hop fields, which the server decides itself. */
const SERVER_OWNED = ['connection', 'content-length', 'transfer-encoding', 'keep-alive'];
/** The server-owned names by length: most names are told apart by their length alone. */
const SERVER_OWNED_BY_LENGTH: Array<string[] | undefined> = [];
for (const name of SERVER_OWNED) (SERVER_OWNED_BY_LENGTH[name.length] ??= []).push(name);

function isServerOwned(lowerName: string): boolean {
  const sameLength = SERVER_OWNED_BY_LENGTH[lowerName.length];
  return sameLength !== undefined && sameLength.includes(lowerName);
}

/** The app's fields as head lines, checked; whether they include Date and Server, and ask to close. */
export interface FieldBlock {
  lines: string;
  hasDate: boolean;
  hasServer: boolean;
  /** `Connection: close` among them: the connection ends after this response. */
  closes: boolean;
}

const CLOSE_OPTION = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i;

/** Blocks of frozen (constant) field lists, made once. */
const BLOCKS = new WeakMap<object, FieldBlock>();

/**
 * The app's fields, [name, value] pairs in order, as a FieldBlock. Names (in
 * any case) and values are checked here, unless the caller says `valid`: the
 * list of one of our own FastHeaders, which only holds fields its checks made
 * (lower-case token names; values without CR, LF, NUL or a character beyond
 * one byte). Fields read out of the platform's Headers are still checked.
 */
export function fieldBlock(fields: Iterable<readonly [string, string]>, valid = false): FieldBlock {
  const cached = BLOCKS.get(fields);
  if (cached !== undefined) return cached;
  let lines = '';
  let hasDate = false;
  let hasServer = false;
  let closes = false;
  for (const [name, value] of fields) {
    const lower = valid ? name : lowerCaseToken(name);
    if (lower === null) throw new InvalidHeaderError(`invalid header name ${JSON.stringify(name)}`);
    if (!valid && isUnsafeValue(value)) throw new InvalidHeaderError(`header ${name} has CR, LF, NUL or a character beyond one byte in its value`);
    if (isServerOwned(lower)) {
      if (lower === 'connection' && CLOSE_OPTION.test(value)) closes = true;
      continue;
    }
    if (lower === 'date') hasDate = true;
    else if (lower === 'server') hasServer = true;
    lines += `${name}: ${value}\r\n`;
  }
  const block = { lines, hasDate, hasServer, closes };
  if (Object.isFrozen(fields)) BLOCKS.set(fields, block);
  return block;
}

/** The complete response head, ready to be written as latin1. */
export function responseHead(spec: HeadSpec): string {
  const block = spec.block;
  let head = statusLine(spec.status) + block.lines;
  if (!block.hasDate) head += currentDateLine();
  if (!block.hasServer && spec.serverSoftware !== '') head += serverLineOf(spec.serverSoftware);
  if (spec.framing === Framing.LENGTH) head += `Content-Length: ${spec.length}\r\n`;
  else if (spec.framing === Framing.CHUNKED) head += 'Transfer-Encoding: chunked\r\n';
  else if (spec.framing === Framing.NONE && spec.length >= 0) head += `Content-Length: ${spec.length}\r\n`;
  if (spec.close) head += 'Connection: close\r\n';
  else if (spec.keepAliveHeader) head += 'Connection: keep-alive\r\n';
  return head + '\r\n';
}

/** An interim (1xx) response head. */
export function informationalHead(status: number, fields: Iterable<readonly [string, string]>): string {
  return `${statusLine(status)}${fieldBlock(fields).lines}\r\n`;
}

/**
 * A head and, when given, a body of `bodyLength` bytes, as one piece to
 * write: a latin1 string when the body is text in ASCII (no buffer to fill),
 * else one buffer.
 */
export function headAndBody(head: string, body: Uint8Array | string | null, bodyLength: number): string | Buffer {
  if (body === null) return head;
  if (typeof body === 'string' && body.length === bodyLength) return head + body;
  const headLength = head.length;
  const out = Buffer.allocUnsafe(headLength + bodyLength);
  out.latin1Write(head, 0, headLength);
  if (typeof body === 'string') out.utf8Write(body, headLength, bodyLength);
  else out.set(body, headLength);
  return out;
}

/** One chunk of the chunked coding. */
export function chunkFrame(data: Uint8Array): Buffer {
  const size = data.byteLength.toString(16);
  const out = Buffer.allocUnsafe(size.length + 4 + data.byteLength);
  out.latin1Write(size, 0);
  out[size.length] = 0x0d;
  out[size.length + 1] = 0x0a;
  out.set(data, size.length + 2);
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return out;
}

/** A plain-text error response that closes the connection (`toHead`: to a HEAD request, without the body its Content-Length counts). */
export function errorResponse(status: number, serverSoftware: string, toHead = false): string | Buffer {
  const body = errorBody(status);
  return headAndBody(responseHead({
    status,
    block: fieldBlock(ERROR_FIELDS),
    framing: Framing.LENGTH,
    length: body.length,
    close: true,
    keepAliveHeader: false,
    serverSoftware,
  }), toHead ? null : body, body.length);
}

export const ERROR_FIELDS: ReadonlyArray<readonly [string, string]> = Object.freeze([Object.freeze(['Content-Type', 'text/plain; charset=utf-8'] as const)]);

/** The body of an error response: its reason phrase. */
export function errorBody(status: number): string {
  return STATUS_REASONS[status] ?? 'Error';
}

/** The body of a 500 that shows what the app threw (--env=development). */
export function exposedErrorBody(error: unknown): string {
  const stack = error instanceof Error ? (error.stack ?? String(error)) : String(error);
  return `${errorBody(500)}\n\n${stack}\n`;
}

export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
