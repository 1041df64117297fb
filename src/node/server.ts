// The Node-app path of one process: each accepted connection is handed to a
// node:http server, whose parser gives the app the real IncomingMessage and
// ServerResponse (Express, Koa and the rest need exactly those). Around it,
// what starlight promises every app: its limits (the head's size and field
// count, the body's size), its timeouts, the Server header, a listener that
// throws or rejects answered 500 and logged, and, shared with the Fetch engine
// (http/base-server.ts), a request count and stopping: idle connections closed
// at once, in-flight requests finished with `Connection: close`.
//
// node:http is lenient where starlight's parser is not, and this module closes
// the gaps: a request line with a version other than 1.0 or 1.1, no Host in
// HTTP/1.1, several Host fields or a malformed one are refused; nothing after
// a connection's last request (one answered `Connection: close`, an HTTP/1.0
// one with Transfer-Encoding among them) reaches the app; a malformed request
// after good ones is answered after their responses, in order; a close
// lingers (socket.ts), so that the client reads its last response; and
// res.writeEarlyHints() sends its 103 only before the head, never to an
// HTTP/1.0 client, and never with a field that could split the response.
//
// An Upgrade or CONNECT request goes to the app's `upgrade(req, socket, head)`
// when it has one (node:http's 'upgrade'/'connect' events, which node:http
// raises only when listened to: without it, an Upgrade request reaches the
// listener as any other, and CONNECT is answered 501). The upgraded socket is
// the app's; it counts as open until it closes, and a stop gives it
// --graceful-timeout before cutting it.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type * as NodeHttp from 'node:http';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { logRefused } from '../http/access.js';
import { BaseServer, forwardingTrust, type ServerOptions } from '../http/base-server.js';
import { forwardingValues, type ForwardedFacts, type ForwardingTrust } from '../http/forwarded.js';
import { loopNow } from '../http/clock.js';
import { LINGER_MS, deadlineCheckPeriod } from '../http/limits.js';
import { HOST_VALUE, isUnsafeValue, lowerCaseToken } from '../http/syntax.js';
import { ConnectionList, type Listed } from '../http/connection-list.js';
import { ERROR_FIELDS, errorBody, errorResponse, exposedErrorBody } from '../http/writer.js';
import type { ClientHandle } from '../listen/bind.js';
import type { ProxiedClient } from '../listen/proxy-protocol.js';
import type { Logger } from '../log/logger.js';
import type { AccessLog } from '../log/access-log.js';
import { LoggedResponse, refusedLine, requestLine } from './access.js';
import { ServedPlainSocket } from './socket.js';

// node:http through require(): an ESM import of it builds a facade of every export, whose
// getters load undici, http2 and node:tls on Node 22+ (some 35 ms of each worker's start).
const http = createRequire(import.meta.url)('node:http') as typeof NodeHttp;

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => unknown;
/** A Node app's named export `upgrade`: node:http's 'upgrade' and 'connect' events. */
export type NodeUpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => unknown;

export interface NodeServerOptions extends ServerOptions {
  listener: NodeListener;
  upgrade?: NodeUpgradeHandler | undefined;
  log: Logger;
  /** Error pages carry the stack trace (development). */
  exposeErrors: boolean;
}

/** What this server knows of one connection, beyond node:http. */
interface ConnectionState extends Listed {
  readonly server: NodeAppServer;
  readonly socket: Socket;
  requests: number;
  /** Its last request has come (answered `Connection: close`): later ones are not the app's. */
  closing: boolean;
  /**
   * The response to its latest request until it is finished (node:http sends
   * responses in order: the others are done when it is). Not kept after: an
   * idle connection holding its last request and response kept them alive
   * into the old generation (13-14 MiB more peak RSS under plaintext).
   */
  latest: ServerResponse | null;
  /** The server answered a malformed request itself: the connection is closing. */
  answered: boolean;
  /** The client its PROXY header named (--proxy-protocol), given to each request as `req.starlight`. */
  client: ProxiedClient | null;
  /** The socket's bytes read and sent when the sweep last saw them move (-1: not seen yet). */
  moved: number;
  /** When (loopNow()) they last moved, for --timeout and --keepalive-timeout. */
  movedAt: number;
  /** The socket's bytes read when its latest response was finished: more since, and the next head has begun. */
  readAtFinish: number;
}

/**
 * What starlight adds to a Node app's request as `req.starlight`, where the
 * client is not the socket's peer (a PROXY header named it, or a trusted
 * proxy's forwarding fields did): the client's address, and the scheme and
 * host it used. `req.socket.remoteAddress` stays the peer's (the proxy's).
 */
export interface StarlightRequestFacts {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly remoteFamily: string | undefined;
  /** 'https' over TLS or when a trusted proxy said so, else 'http'. */
  readonly scheme: string;
  /** The host a trusted proxy said the client asked for; undefined: the Host field. */
  readonly host: string | undefined;
}

/** The client's address as the app is told of it: `req.starlight`'s where starlight set one, else the socket's peer. */
export function clientAddress(req: IncomingMessage): string | undefined {
  return (req as IncomingMessage & { starlight?: StarlightRequestFacts }).starlight?.remoteAddress ?? req.socket.remoteAddress;
}

/** req.starlight: what a trusted proxy's fields say, else the client a PROXY header named, else the socket's peer. */
function requestFacts(req: IncomingMessage, client: ProxiedClient | null, forwarded: ForwardedFacts | null): StarlightRequestFacts {
  const scheme = forwarded?.scheme ?? ((req.socket as TLSSocket).encrypted === true ? 'https' : 'http');
  const host = forwarded?.host;
  const forwardedAddress = forwarded?.remoteAddress;
  if (forwardedAddress !== undefined) {
    const remoteFamily = forwardedAddress.includes(':') ? 'IPv6' : 'IPv4';
    return { remoteAddress: forwardedAddress, remotePort: forwarded!.remotePort, remoteFamily, scheme, host };
  }
  if (client !== null) return { remoteAddress: client.address, remotePort: client.port, remoteFamily: client.family, scheme, host };
  const { remoteAddress, remotePort, remoteFamily } = req.socket;
  return { remoteAddress, remotePort, remoteFamily, scheme, host };
}

/** The status for a request node:http's parser refused, by its error code (400 for the rest). */
const CLIENT_ERROR_STATUS: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/** Where a chunked request's body is counted against --max-body-size (see limitBody()). */
const BODY_LIMIT = Symbol('body limit');

interface BodyLimit {
  remaining: number;
  /** Called once, when the body grows past the limit. */
  readonly overflow: () => void;
}

type LimitedRequest = IncomingMessage & { [BODY_LIMIT]: BodyLimit | null };

/**
 * node:http's parser pushes each piece of a body into the request, and
 * counts nothing itself: for a chunked body (a Content-Length is checked
 * before the app is called, and the parser holds the body to it) each push
 * is counted here first. It is the request's own push(), not a class's:
 * frameworks replace a request's prototype (Express does), and the limit must
 * hold for them too.
 */
function limitBody(req: IncomingMessage, limit: BodyLimit): void {
  (req as LimitedRequest)[BODY_LIMIT] = limit;
  req.push = countingPush;
}

function countingPush(this: LimitedRequest, chunk: unknown, encoding?: BufferEncoding): boolean {
  const limit = this[BODY_LIMIT];
  if (chunk !== null && limit !== null) {
    limit.remaining -= (chunk as Buffer).length;
    if (limit.remaining < 0) {
      this[BODY_LIMIT] = null;
      limit.overflow();
      return false;
    }
  }
  return http.IncomingMessage.prototype.push.call(this, chunk, encoding);
}

/** The fields given to writeHead() name a Server header (a loop, not keys().some(): no closure per response). */
function namesServer(headers: object): boolean {
  for (const name of Object.keys(headers)) if (name.length === 6 && name.toLowerCase() === 'server') return true;
  return false;
}

type WriteHead = (this: ServerResponse, statusCode: number, reasonOrHeaders?: unknown, maybeHeaders?: unknown) => ServerResponse;

/**
 * A response's writeHead() that adds the Server header, unless the app gave
 * one. (Set up front with setHeader(), it would send every head the app
 * passes to writeHead() down node:http's slow path, which merges them field by
 * field: 1-2 µs a response with a few fields.) It is put on each response
 * itself, not on a subclass, because frameworks replace a response's
 * prototype (Express does); it calls whatever writeHead() that prototype has.
 */
function serverNamingWriteHead(serverSoftware: string): WriteHead {
  return function writeHead(this: ServerResponse, statusCode, reasonOrHeaders, maybeHeaders) {
    const inherited = (Object.getPrototypeOf(this) as { writeHead: WriteHead }).writeHead;
    if (!this.headersSent && !this.hasHeader('server')) {
      const reasonGiven = typeof reasonOrHeaders === 'string';
      const headers = reasonGiven ? maybeHeaders : reasonOrHeaders;
      if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
        this.setHeader('Server', serverSoftware);
      } else if (!namesServer(headers)) {
        const named = { Server: serverSoftware, ...headers };
        return reasonGiven ? inherited.call(this, statusCode, reasonOrHeaders, named) : inherited.call(this, statusCode, named);
      }
    }
    return inherited.call(this, statusCode, reasonOrHeaders, maybeHeaders);
  };
}

type WriteEarlyHints = (this: ServerResponse, hints: Record<string, unknown>, callback?: () => void) => void;

/**
 * A response's writeEarlyHints() that sends the 103 only where it may go, as
 * the Fetch engine's informational() does. node:http writes it to an HTTP/1.0
 * client too, which knows no 1xx and takes it for the final response; after
 * the head, Node 20 writes it into the body (Node 24 throws); and Node 20
 * writes the fields unchecked, so a CR LF in a value would split the
 * response. Here it is dropped for HTTP/1.0 and once the head went out (the
 * callback still runs), and a field that is not a token with a safe value is
 * refused. Put on each response for the reason writeHead() is (see
 * serverNamingWriteHead()).
 */
function guardedWriteEarlyHints(this: ServerResponse, hints: Record<string, unknown>, callback?: () => void): void {
  if (this.headersSent || this.req.httpVersionMinor === 0) {
    if (typeof callback === 'function') process.nextTick(callback);
    return;
  }
  if (typeof hints === 'object' && hints !== null) {
    for (const [name, value] of Object.entries(hints)) {
      if (lowerCaseToken(name) === null) throw new TypeError(`writeEarlyHints(): ${JSON.stringify(name)} is not a valid field name`);
      for (const item of Array.isArray(value) ? value : [value]) {
        if (isUnsafeValue(String(item))) throw new TypeError(`writeEarlyHints(): the value of ${name} holds CR, LF, NUL or a character beyond one byte`);
      }
    }
  }
  (Object.getPrototypeOf(this) as { writeEarlyHints: WriteEarlyHints }).writeEarlyHints.call(this, hints, callback);
}

/** Where a served socket, and each response on it (node:http detaches a finished one from its socket), find the connection's state. */
const CONNECTION_STATE = Symbol('connection state');
type Served = Socket & { [CONNECTION_STATE]: ConnectionState };
type TrackedResponse = ServerResponse & { [CONNECTION_STATE]: ConnectionState };

/** When a served socket's connection has closed (one function for all, so no closure per connection). */
function servedSocketClosed(this: Served): void {
  const state = this[CONNECTION_STATE];
  state.server.forget(state);
}

/** The state of a socket this server serves, undefined once its connection has closed (or for another socket). */
function stateOf(socket: Socket): ConnectionState | undefined {
  const state = (socket as Partial<Served>)[CONNECTION_STATE];
  return state !== undefined && state.listIndex !== -1 ? state : undefined;
}

/** On a response's 'finish' (one function for all, so no closure per response). */
function releaseLatest(this: TrackedResponse): void {
  const state = this[CONNECTION_STATE];
  if (state.latest !== this) return;
  state.latest = null;
  state.readAtFinish = this.req.socket.bytesRead;
}

/** What the server checks in a head node:http accepted, read from its raw fields (its `headers` object is built only if the app asks). */
interface FieldFacts {
  /** The Host fields are acceptable: one (at most one if not required), well-formed. */
  hostValid: boolean;
  contentLength: string | undefined;
  transferEncoding: boolean;
}

function fieldFacts(rawHeaders: readonly string[], hostRequired: boolean): FieldFacts {
  let host: string | undefined;
  let hosts = 0;
  let contentLength: string | undefined;
  let transferEncoding = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const length = name.length;
    if (length === 4) {
      if (name.toLowerCase() === 'host') {
        hosts++;
        host = rawHeaders[i + 1]!;
      }
    } else if (length === 14) {
      if (contentLength === undefined && name.toLowerCase() === 'content-length') contentLength = rawHeaders[i + 1]!;
    } else if (length === 17) {
      if (name.toLowerCase() === 'transfer-encoding') transferEncoding = true;
    }
  }
  const hostValid = hosts === 0 ? !hostRequired : hosts === 1 && HOST_VALUE.test(host!);
  return { hostValid, contentLength, transferEncoding };
}

export class NodeAppServer extends BaseServer {
  readonly connections = new ConnectionList<ConnectionState>();
  private readonly server: Server;
  /** The writeHead() each response gets, null without a Server header. */
  private readonly writeHead: WriteHead | null;
  /** --forwarded-allow-ips; null when no peer is trusted. */
  private readonly forwarding: ForwardingTrust | null;
  /** --access-log; null when requests are not logged. */
  private readonly accessLog: AccessLog | null;
  /** Checks --timeout, --keepalive-timeout and the lingering closes for every connection; see sweep(). */
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: NodeServerOptions) {
    super(options);
    this.forwarding = forwardingTrust(options);
    this.accessLog = options.accessLog ?? null;
    this.writeHead = options.serverSoftware === '' ? null : serverNamingWriteHead(options.serverSoftware);
    const headersTimeout = options.headerTimeout;
    this.server = new http.Server(
      {
        maxHeaderSize: options.maxHeaderSize,
        headersTimeout,
        // starlight has no deadline for a whole request; --timeout bounds each wait instead (sweep()).
        requestTimeout: 0,
        // Checked below with the other Host rules (node:http would answer without closing after).
        requireHostHeader: false,
        // Not node:http's: it arms a timer on the socket after every response and clears it at
        // the next request; the sweep below checks idle connections for all of them at once.
        keepAliveTimeout: 0,
        connectionsCheckingInterval: deadlineCheckPeriod(headersTimeout),
      },
      (req, res) => this.handle(req, res),
    );
    // One more than allowed is kept, so that a head with too many is seen (node:http drops the rest).
    this.server.maxHeadersCount = options.maxHeaders + 1;
    // Not server.timeout: node:http would arm and clear a timer per request and refresh it on every
    // read and write; one sweep for all connections does it, as the Fetch engine's does.
    const deadlines = [options.timeout, options.keepaliveTimeout, LINGER_MS].filter((deadline) => deadline > 0);
    this.sweeper = setInterval(() => this.sweep(), deadlineCheckPeriod(Math.min(...deadlines))).unref();
    this.server.on('clientError', (error: Error & { code?: string }, socket: Socket) => this.clientError(error, socket));
    // An Expect other than 100-continue: 417 and the close, as for a Fetch app
    // (node:http would answer 417 itself and read on, and a body cut short
    // after it got a second answer).
    this.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res, 417));
    const upgrade = options.upgrade;
    if (upgrade !== undefined) {
      const upgraded = (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgraded(upgrade, req, socket, head);
      this.server.on('upgrade', upgraded);
      this.server.on('connect', upgraded);
    } else {
      // Without `upgrade` the app cannot take a tunnel (it never sees the server), so CONNECT
      // is answered 501, as for a Fetch app, where node:http would drop the connection.
      this.server.on('connect', (req: IncomingMessage, socket: Socket) => {
        const state = stateOf(socket);
        if (state === undefined) return void socket.destroy();
        this.answerError(socket, state, 501, requestLine(req));
      });
    }
    // node:http starts its list of connections, which its header deadline and
    // closeIdleConnections() work on, when it begins listening; this server
    // never listens (starlight accepts the connections), so it is told here.
    this.server.emit('listening');
  }

  protected acceptPlain(accepted: ClientHandle | Socket, client: ProxiedClient | null): void {
    this.serve(accepted instanceof Socket ? accepted : this.proxiedSocket(accepted), client);
  }

  /** Plain connections are ServedPlainSockets, whether or not a PROXY header is read first. */
  protected override proxiedSocket(handle: ClientHandle): Socket {
    return new ServedPlainSocket(handle);
  }

  /** node:http serves a TLS socket as https.Server does: req.socket.encrypted says so (Express's req.secure), getPeerCertificate() works. */
  protected acceptSecure(socket: TLSSocket, client: ProxiedClient | null): void {
    this.serve(socket, client);
  }

  private serve(socket: Socket, client: ProxiedClient | null): void {
    const state: ConnectionState = { server: this, socket, listIndex: -1, requests: 0, closing: false, latest: null, answered: false, client, moved: -1, movedAt: 0, readAtFinish: 0 };
    this.connections.add(state);
    (socket as Served)[CONNECTION_STATE] = state;
    if (socket instanceof ServedPlainSocket) {
      // It sets TCP_NODELAY itself, before its second send; its close may outlast its 'close'.
      (socket as ServedPlainSocket & Served).onceClosed(servedSocketClosed);
    } else {
      socket.setNoDelay(true);
      // (Not once(): 'close' comes once, and once() wraps the listener anew for each socket.)
      socket.on('close', servedSocketClosed);
    }
    this.server.emit('connection', socket);
  }

  /** A served connection has closed. */
  forget(state: ConnectionState): void {
    this.connections.delete(state);
    this.connectionGone();
  }

  /**
   * The deadlines of a connection whose socket has read and sent nothing for
   * a while. --timeout: a request in progress (being read, or its response
   * not yet all written) times out, as with node:http's socket timeout
   * ('timeout' on the socket: node:http tells the request, the response and
   * the server, and destroys the socket if none of them listens).
   * --keepalive-timeout: a connection idle after a response (no byte of a
   * next request yet) is closed, as node:http's keepAliveTimeout would; a
   * head begun has --header-timeout, which node:http keeps, as it does for
   * a new connection's first. Progress is seen from the
   * socket's byte counts, which node:net keeps anyway; a deadline is met
   * within one period of the sweep after it. And a close that has lingered
   * LINGER_MS (see socket.ts) ends, as the Fetch engine's does.
   */
  private sweep(): void {
    const now = loopNow();
    const { timeout, keepaliveTimeout } = this.options;
    this.connections.forEach((state) => {
      const socket = state.socket;
      if (socket instanceof ServedPlainSocket && socket.lingerExpired(now)) return void socket.destroy();
      const between = state.latest === null;
      const idle = between && state.requests > 0 && !state.closing && socket.bytesRead === state.readAtFinish;
      const deadline = idle ? keepaliveTimeout : between ? 0 : timeout;
      if (deadline === 0) {
        state.moved = -1;
        return;
      }
      const moved = socket.bytesRead + (socket as { _bytesDispatched?: number })._bytesDispatched!;
      if (moved !== state.moved) {
        state.moved = moved;
        state.movedAt = now;
      } else if (now - state.movedAt >= deadline) {
        state.moved = -1;
        if (idle) socket.destroy();
        else socket.emit('timeout');
      }
    });
  }

  /** What a request's forwarding fields say, if it has any and its peer (the PROXY header's client, else the socket's) is trusted. */
  private forwardedFacts(trust: ForwardingTrust, req: IncomingMessage, state: ConnectionState): ForwardedFacts | null {
    const values = forwardingValues(req.rawHeaders);
    if (values === null || !trust.trusts(state.client?.address ?? req.socket.remoteAddress)) return null;
    return trust.facts(values);
  }

  /** A request (`refusal`: the status node:http's own checks call for, answered instead of the app). */
  private handle(req: IncomingMessage, res: ServerResponse, refusal = 0): void {
    const socket = req.socket as Served;
    const state = socket[CONNECTION_STATE];
    // Left unanswered: the connection closes after the response before it.
    if (state.closing) return;
    this.countRequest();
    const { options } = this;
    const forwarded = this.forwarding === null ? null : this.forwardedFacts(this.forwarding, req, state);
    const facts = state.client !== null || forwarded !== null ? requestFacts(req, state.client, forwarded) : null;
    if (facts !== null) (req as IncomingMessage & { starlight: StarlightRequestFacts }).starlight = facts;
    if (this.accessLog !== null) LoggedResponse.follow(this.accessLog, req, res, clientAddress(req));
    state.requests++;
    state.latest = res;
    (res as TrackedResponse)[CONNECTION_STATE] = state;
    res.on('finish', releaseLatest);
    if (this.writeHead !== null) (res as { writeHead: unknown }).writeHead = this.writeHead;
    (res as { writeEarlyHints: unknown }).writeEarlyHints = guardedWriteEarlyHints;
    const http10 = req.httpVersionMinor === 0;
    const fields = fieldFacts(req.rawHeaders, !http10);
    // node:http answers `Connection: close` when the request asked for it (or is HTTP/1.0 without
    // keep-alive); an HTTP/1.0 request with Transfer-Encoding has faulty framing (RFC 9112 §6.1).
    if (!res.shouldKeepAlive || (http10 && fields.transferEncoding) || this.draining || state.requests >= options.maxKeepaliveRequests) this.lastOn(res);

    const fault = this.headFault(req, fields) || refusal;
    if (fault !== 0) return this.refuse(res, fault);
    if (fields.contentLength !== undefined && Number(fields.contentLength) > options.maxBodySize) return this.refuse(res, 413);
    if (fields.transferEncoding && Number.isFinite(options.maxBodySize)) {
      const overflow = () => {
        this.refuse(res, 413);
        req.destroy(new Error(`the request body is larger than --max-body-size (${options.maxBodySize} bytes)`));
      };
      limitBody(req, { remaining: options.maxBodySize, overflow });
    }

    let result: unknown;
    try {
      result = options.listener(req, res);
    } catch (error) {
      return this.fail(req, res, error);
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      Promise.resolve(result).then(
        (value) => this.checkReturned(req, res, value),
        (error: unknown) => this.fail(req, res, error),
      );
    } else if (result !== undefined) {
      // (Not for undefined: `instanceof Response` costs a call per request where the global is wrapped.)
      this.checkReturned(req, res, result);
    }
  }

  /** The status refusing a head node:http accepted (its version, its Host, too many fields); 0 if it is fine. */
  private headFault(req: IncomingMessage, fields: FieldFacts): number {
    if (req.httpVersionMajor !== 1 || req.httpVersionMinor > 1) return req.httpVersionMajor === 0 ? 400 : 505;
    if (!fields.hostValid) return 400;
    if (req.rawHeaders.length > 2 * this.options.maxHeaders) return 431;
    return 0;
  }

  /**
   * An Upgrade or CONNECT request, to the app's `upgrade`: counted as a
   * request, checked as any other head is, then the socket is the app's (no
   * --timeout: an idle WebSocket is no stalled request). A throw or rejection
   * is logged and the connection cut.
   */
  private upgraded(upgrade: NodeUpgradeHandler, req: IncomingMessage, socket: Socket, head: Buffer): void {
    const state = stateOf(socket);
    if (state === undefined || state.closing) return void socket.destroy();
    this.countRequest();
    state.requests++;
    const fault = this.headFault(req, fieldFacts(req.rawHeaders, req.httpVersionMinor !== 0));
    if (fault !== 0) return this.answerError(socket, state, fault, requestLine(req));
    state.closing = true;
    socket.setTimeout(0);
    const failed = (error: unknown) => {
      this.options.log.error(`${req.method} ${req.url}: the app's upgrade() failed`, error);
      socket.destroy();
    };
    try {
      const result = upgrade(req, socket, head);
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') Promise.resolve(result).catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  /**
   * This response closes its connection (it says `Connection: close`);
   * nothing after its request reaches the app.
   */
  private lastOn(res: ServerResponse): void {
    res.shouldKeepAlive = false;
    (res as TrackedResponse)[CONNECTION_STATE].closing = true;
  }

  /** A request node:http's parser refused (or its header deadline passed). */
  private clientError(error: Error & { code?: string }, socket: Socket): void {
    const state = stateOf(socket);
    if (state === undefined || error.code === 'ECONNRESET') return void socket.destroy();
    // node:http's dead parser says so again for every read while the close lingers.
    if (state.answered) return;
    const latest = state.latest;
    // The connection's last response is out (a head we refused, a request
    // that asked for the close): what the client sent after it is not
    // answered; the close lingers.
    if (state.closing && (latest === null || latest.writableFinished)) return;
    if (!socket.writable) return void socket.destroy();
    const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? 400;
    if (latest !== null && !latest.writableFinished && latest.req.complete) {
      // The bytes after whole requests: those are answered first, then this
      // one. After a connection's last request nothing is read: its answer
      // goes out, then the close.
      if (!state.closing) latest.once('finish', () => this.answerError(socket, state, status, refusedLine(error)));
      state.closing = true;
      return;
    }
    // The request being read is the malformed one (its body, say): it is
    // answered instead of the app, or cut if the app had begun its response.
    // node:http holds a pipelined request's response (no socket yet) until
    // those before it are out: so is the answer, or the cut.
    if (latest !== null && latest.socket === null) {
      state.answered = true;
      state.closing = true;
      if (!latest.headersSent) latest.once('socket', () => this.answerError(socket, state, status, refusedLine(error), latest.req.method === 'HEAD'));
      else if (latest.writableEnded) latest.once('finish', () => socket.destroySoon());
      else latest.once('socket', () => socket.destroy());
      return;
    }
    if (latest !== null && latest.headersSent && !latest.writableFinished) return void socket.destroy();
    this.answerError(socket, state, status, refusedLine(error), latest !== null && !latest.writableFinished && latest.req.method === 'HEAD');
  }

  /** The server's own answer on a connection with nothing else to send, then the (lingering) close; `line`: what was read of the request line; `toHead`: it answers a HEAD (no body). */
  private answerError(socket: Socket, state: ConnectionState, status: number, line: string, toHead = false): void {
    if (this.accessLog !== null) logRefused(this.accessLog, status, line, { remoteAddress: state.client?.address ?? socket.remoteAddress, localAddress: socket.localAddress, localPort: socket.localPort });
    state.answered = true;
    state.closing = true;
    if (socket.writable) socket.write(errorResponse(status, this.options.serverSoftware, toHead));
    socket.destroySoon();
  }

  /** A (req, res) function that returns a Response was meant as a Fetch app. */
  private checkReturned(req: IncomingMessage, res: ServerResponse, value: unknown): void {
    if (value instanceof Response) {
      this.fail(req, res, new TypeError('the app is a (req, res) function but returned a Response; for a Fetch app, export default { fetch(request) { … } }'));
    }
  }

  /** Logs an app's failure; answers 500 if nothing was sent yet, else cuts the response. */
  private fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    this.options.log.error(`${req.method} ${req.url}: the app failed`, error);
    if (res.headersSent) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    // The connection is kept: node:http skips whatever of the request body is left unread.
    this.refuse(res, 500, this.options.exposeErrors ? exposedErrorBody(error) : errorBody(500), false);
  }

  /** The server's own answer, in place of whatever the app had set; by default the connection closes after it. */
  private refuse(res: ServerResponse, status: number, body = errorBody(status), close = true): void {
    if (res.headersSent) return;
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    if (close) this.lastOn(res);
    for (const [name, value] of ERROR_FIELDS) res.setHeader(name, value);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.writeHead(status, errorBody(status));
    res.end(body);
  }

  protected drainConnections(closeIdle: boolean): void {
    this.connections.forEach((state) => {
      const latest = state.latest;
      if (latest === null || latest.writableFinished) return;
      // A response in flight closes its connection, and one that has already
      // promised keep-alive leaves it idle: closed then if idle ones are.
      if (!latest.headersSent) this.lastOn(latest);
      else if (closeIdle) latest.once('finish', () => state.socket.destroySoon());
    });
    if (closeIdle) this.server.closeIdleConnections();
  }

  destroy(): void {
    clearInterval(this.sweeper);
    this.connections.forEach((state) => state.socket.destroy());
    this.server.close(() => {});
  }
}
