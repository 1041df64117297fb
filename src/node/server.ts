// The Node-app path of one process: each accepted connection is handed to a
// node:http server, whose parser gives the app the real IncomingMessage and
// ServerResponse (Express, Koa and the rest need exactly those). Around it,
// what starlight promises every app: its limits (the head's size and field
// count, the body's size), its timeouts, the Server header, a request count,
// a listener that throws or rejects answered 500 and logged, and stopping as
// the Fetch engine does: idle connections closed at once, in-flight requests
// finished with `Connection: close`.

import { IncomingMessage, Server, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { ClientHandle } from '../listen/bind.js';
import type { Logger } from '../log/logger.js';

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface NodeServerOptions {
  listener: NodeListener;
  log: Logger;
  /** Request line plus header fields, in bytes (over it: 431). */
  maxHeaderSize: number;
  /** Header fields per request (over it: 431). */
  maxHeaders: number;
  /** Request body, in bytes (over it: 413). */
  maxBodySize: number;
  /** Seconds. */
  headerTimeout: number;
  keepaliveTimeout: number;
  timeout: number;
  maxKeepaliveRequests: number;
  /** The Server header; '' for none. */
  serverSoftware: string;
  /** Error pages carry the stack trace (development). */
  exposeErrors: boolean;
  /** Called for each request before the app sees it. */
  counted: () => void;
}

/** The status line's reason for the answers the server gives itself. */
const REASONS: Record<number, string> = { 413: 'Content Too Large', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error' };

/**
 * An IncomingMessage whose body may not grow past `maxBodySize`: node:http's
 * parser pushes each piece of a body into it, and counts nothing itself.
 */
function sizeLimitedRequest(maxBodySize: number): typeof IncomingMessage & (new (socket: Socket) => SizeLimitedRequest) {
  return class extends IncomingMessage implements SizeLimitedRequest {
    received = 0;
    overflow: (() => void) | null = null;

    override push(chunk: unknown, encoding?: BufferEncoding): boolean {
      if (chunk !== null && this.overflow !== null) {
        this.received += (chunk as Buffer).length;
        if (this.received > maxBodySize) {
          const overflow = this.overflow;
          this.overflow = null;
          overflow();
          return false;
        }
      }
      return super.push(chunk, encoding);
    }
  };
}

interface SizeLimitedRequest extends IncomingMessage {
  /** Called once, when the body grows past the limit. */
  overflow: (() => void) | null;
}

export class NodeAppServer {
  /** Open connections, with the requests each has received. */
  readonly connections = new Map<Socket, number>();
  /** Requests received, over all connections. */
  requests = 0;
  private readonly server: Server;
  /** Responses not yet finished (or cut). */
  private readonly inFlight = new Set<ServerResponse>();
  /** Stopping: no connection is kept alive after its current request. */
  private draining = false;
  /** Stopping, not retiring: a connection is closed as soon as it is idle. */
  private closingIdle = false;
  private emptied: (() => void) | null = null;

  constructor(private readonly options: NodeServerOptions) {
    const headersTimeout = options.headerTimeout * 1000;
    this.server = new Server(
      {
        maxHeaderSize: options.maxHeaderSize,
        headersTimeout,
        // starlight has no deadline for a whole request; --timeout bounds each wait instead.
        requestTimeout: 0,
        keepAliveTimeout: options.keepaliveTimeout * 1000,
        connectionsCheckingInterval: Math.min(1000, Math.max(10, headersTimeout / 4)),
        ...(Number.isFinite(options.maxBodySize) ? { IncomingMessage: sizeLimitedRequest(options.maxBodySize) } : {}),
      },
      (req, res) => this.handle(req, res),
    );
    // One more than allowed is kept, so that a head with too many is seen (node:http drops the rest).
    this.server.maxHeadersCount = options.maxHeaders + 1;
    this.server.timeout = options.timeout * 1000;
    // node:http starts its list of connections, which its header deadline and
    // closeIdleConnections() work on, when it begins listening; this server
    // never listens (starlight accepts the connections), so it is told here.
    this.server.emit('listening');
  }

  /** Serves a newly accepted connection (while draining, for one request). */
  accept(handle: ClientHandle): void {
    const socket = new Socket({ handle, allowHalfOpen: true, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
    socket.setNoDelay(true);
    this.connections.set(socket, 0);
    socket.once('close', () => {
      this.connections.delete(socket);
      if (this.connections.size === 0 && this.emptied !== null) this.emptied();
    });
    this.server.emit('connection', socket);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests++;
    this.options.counted();
    const { options } = this;
    const socket = req.socket as Socket;
    const served = (this.connections.get(socket) ?? 0) + 1;
    this.connections.set(socket, served);
    if (options.serverSoftware !== '') res.setHeader('Server', options.serverSoftware);
    // The response says `Connection: close`, and node:http closes after it.
    if (this.draining || served >= options.maxKeepaliveRequests) res.shouldKeepAlive = false;
    this.inFlight.add(res);
    res.once('close', () => {
      this.inFlight.delete(res);
      // A response begun before the stop may have promised keep-alive: its connection is idle now.
      if (this.closingIdle) this.server.closeIdleConnections();
    });

    if (req.rawHeaders.length > 2 * options.maxHeaders) return this.refuse(res, 431);
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > options.maxBodySize) return this.refuse(res, 413);
    if ('overflow' in req) {
      (req as SizeLimitedRequest).overflow = () => {
        this.refuse(res, 413);
        req.destroy(new Error(`the request body is larger than --max-body-size (${options.maxBodySize} bytes)`));
      };
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
    } else {
      this.checkReturned(req, res, result);
    }
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
    const detail = this.options.exposeErrors ? `\n\n${error instanceof Error ? (error.stack ?? String(error)) : String(error)}\n` : '\n';
    // The connection is kept: node:http skips whatever of the request body is left unread.
    this.refuse(res, 500, detail, false);
  }

  /** The server's own answer, in place of whatever the app had set; by default the connection closes after it. */
  private refuse(res: ServerResponse, status: number, detail = '\n', close = true): void {
    if (res.headersSent) return;
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    const body = `${REASONS[status]}${detail}`;
    if (close) res.shouldKeepAlive = false;
    res.writeHead(status, REASONS[status], {
      ...(this.options.serverSoftware !== '' ? { Server: this.options.serverSoftware } : {}),
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  /**
   * Stops keeping connections alive and resolves when none is left. With
   * `closeIdle`, idle keep-alive connections close at once (a stop); without,
   * at their next response or keep-alive timeout (a retiring worker).
   */
  shutdown(closeIdle: boolean): Promise<void> {
    this.draining = true;
    for (const res of this.inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    const done = new Promise<void>((resolve) => {
      this.emptied = resolve;
    });
    this.closingIdle = closeIdle;
    if (closeIdle) this.server.closeIdleConnections();
    if (this.connections.size === 0) this.emptied!();
    return done;
  }

  /** Cuts every connection. */
  destroy(): void {
    for (const socket of this.connections.keys()) socket.destroy();
    this.server.close(() => {});
  }
}
