// A Node app's requests in the access log (--access-log): each response is
// followed to its 'close', counting the body bytes the app writes, and logged
// then, whether it finished or was cut. (A request the server refused itself
// is logged by http/access.ts's logRefused(), with its request line.)

import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLOSED_BEFORE_RESPONSE } from '../http/access.js';
import { MAX_REQUEST_LINE } from '../http/limits.js';
import type { AccessRecord } from '../log/access-format.js';
import type { AccessLog } from '../log/access-log.js';

const LOGGED = Symbol('logged response');
type Followed = ServerResponse & { [LOGGED]: LoggedResponse };
type Write = (...args: unknown[]) => boolean;
type End = (...args: unknown[]) => ServerResponse;

/** The bytes of a chunk given to write() or end() (a callback in its place counts none). */
function chunkBytes(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}

// Put on each followed response itself, as node/server.ts puts writeHead(): frameworks replace a
// response's prototype, and these call whatever that prototype has.
function countingWrite(this: Followed, chunk: unknown, encoding?: unknown): boolean {
  this[LOGGED].bytes += chunkBytes(chunk, encoding);
  return Reflect.apply((Object.getPrototypeOf(this) as { write: Write }).write, this, arguments) as boolean;
}
function countingEnd(this: Followed, chunk?: unknown, encoding?: unknown): ServerResponse {
  this[LOGGED].bytes += chunkBytes(chunk, encoding);
  return Reflect.apply((Object.getPrototypeOf(this) as { end: End }).end, this, arguments) as ServerResponse;
}
function logClosed(this: Followed): void {
  const logged = this[LOGGED];
  logged.log.log(logged, logged.startedAt);
}

const protocolOf = (req: IncomingMessage): string => `HTTP/${req.httpVersion}`;

/** A request's line as the access log shows it (also for those the server answers before any response exists). */
export const requestLine = (req: IncomingMessage): string => `${req.method ?? ''} ${req.url ?? ''} ${protocolOf(req)}`;

/** A name's value in a response head as written (`name: value` lines), for fields given straight to writeHead(). */
function fieldInHead(head: string, lowerName: string): string | null {
  const lower = head.toLowerCase();
  let found: string | null = null;
  for (let at = lower.indexOf(`\r\n${lowerName}:`); at !== -1; at = lower.indexOf(`\r\n${lowerName}:`, at + 2)) {
    const start = at + 3 + lowerName.length;
    const value = head.slice(start, head.indexOf('\r\n', start)).trim();
    found = found === null ? value : `${found}, ${value}`;
  }
  return found;
}

/** One request of a Node app, as the access log reads it. */
export class LoggedResponse implements AccessRecord {
  bytes = 0;
  readonly startedAt: number;

  private constructor(
    readonly log: AccessLog,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly remoteAddress: string | undefined,
  ) {
    this.startedAt = log.start();
  }

  /** Logs `res` as it closes (finished or cut); `remoteAddress`: the client's, as the app is told it. */
  static follow(log: AccessLog, req: IncomingMessage, res: ServerResponse, remoteAddress: string | undefined): void {
    const followed = res as Followed;
    followed[LOGGED] = new LoggedResponse(log, req, res, remoteAddress);
    (res as { write: unknown }).write = countingWrite;
    (res as { end: unknown }).end = countingEnd;
    res.on('close', logClosed);
  }

  get localAddress(): string | undefined {
    return this.req.socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.req.socket.localPort;
  }
  get method(): string {
    return this.req.method ?? '';
  }
  get target(): string {
    return this.req.url ?? '';
  }
  get protocol(): string {
    return protocolOf(this.req);
  }
  get requestLine(): string {
    return requestLine(this.req);
  }
  get status(): number {
    return this.res.headersSent ? this.res.statusCode : CLOSED_BEFORE_RESPONSE;
  }
  get bytesSent(): number {
    const status = this.res.statusCode;
    // node:http sends no body with these, whatever the app writes.
    if (this.req.method === 'HEAD' || status < 200 || status === 204 || status === 304) return 0;
    return this.bytes;
  }
  requestField(lowerName: string): string | null {
    const raw = this.req.rawHeaders;
    let found: string | null = null;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === lowerName.length && name.toLowerCase() === lowerName) found = found === null ? raw[i + 1]! : `${found}, ${raw[i + 1]!}`;
    }
    return found;
  }
  responseField(lowerName: string): string | null {
    const value = this.res.getHeader(lowerName);
    if (value !== undefined) return Array.isArray(value) ? value.join(', ') : String(value);
    const head = (this.res as { _header?: unknown })._header;
    return typeof head === 'string' ? fieldInHead(head, lowerName) : null;
  }
}

/** What was read of the request line of a request node:http's parser refused (its error's rawPacket). */
export function refusedLine(error: Error & { rawPacket?: unknown }): string {
  const packet = error.rawPacket;
  if (!(packet instanceof Uint8Array)) return '';
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, Math.min(packet.byteLength, MAX_REQUEST_LINE));
  let end = bytes.indexOf(0x0d);
  const lf = bytes.indexOf(0x0a);
  if (end === -1 || (lf !== -1 && lf < end)) end = lf;
  return bytes.toString('latin1', 0, end === -1 ? bytes.length : end);
}
