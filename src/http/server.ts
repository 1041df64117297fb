// The HTTP/1.1 engine of one process: the connections it accepted, their
// timeouts (one sweep for all of them, instead of a timer per request), the
// request count, and stopping: graceful (idle connections closed, in-flight
// requests finished with `Connection: close`) or immediate. It knows requests
// only as Exchanges handed to `handler`; what answers them (the Fetch adapter)
// lives above. To its connections it is their ConnectionHost.

import { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ClientHandle } from '../listen/bind.js';
import { SocketStream, type ClientStream } from '../listen/client-stream.js';
import { plainStream } from '../listen/handle-stream.js';
import type { ProxiedClient } from '../listen/proxy-protocol.js';
import { ExchangeLog } from './access.js';
import { BaseServer, forwardingTrust, type ServerOptions } from './base-server.js';
import { loopNow } from './clock.js';
import { Connection, type ConnectionHost } from './connection.js';
import { ConnectionList } from './connection-list.js';
import type { Exchange } from './exchange.js';
import { ForwardingTrust } from './forwarded.js';
import { MAX_CHUNK_EXTENSIONS, MAX_REQUEST_LINE, deadlineCheckPeriod } from './limits.js';
import type { ParserLimits } from './parser.js';

export interface HttpServerOptions extends ServerOptions {
  /** Answers one request. Must not throw. */
  handler: (exchange: Exchange) => void;
}

export class HttpServer extends BaseServer implements ConnectionHost {
  readonly connections = new ConnectionList<Connection>();
  readonly limits: ParserLimits;
  readonly timeouts: { readonly header: number; readonly keepalive: number; readonly inactivity: number };
  readonly maxKeepaliveRequests: number;
  readonly serverSoftware: string;
  readonly forwarding: ForwardingTrust | null;
  readonly accessLog: ExchangeLog | null;
  private readonly handler: (exchange: Exchange) => void;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: HttpServerOptions) {
    super(options);
    this.limits = {
      maxHeaderSize: options.maxHeaderSize,
      maxRequestLine: MAX_REQUEST_LINE,
      maxHeaders: options.maxHeaders,
      maxBodySize: options.maxBodySize,
      maxChunkExtensions: MAX_CHUNK_EXTENSIONS,
    };
    this.timeouts = {
      header: options.headerTimeout,
      keepalive: options.keepaliveTimeout,
      inactivity: options.timeout,
    };
    this.maxKeepaliveRequests = options.maxKeepaliveRequests;
    this.serverSoftware = options.serverSoftware;
    this.forwarding = forwardingTrust(options);
    this.accessLog = options.accessLog == null ? null : new ExchangeLog(options.accessLog);
    this.handler = options.handler;
    const shortest = Math.min(this.timeouts.header, this.timeouts.keepalive, this.timeouts.inactivity);
    this.sweeper = setInterval(() => this.sweep(), deadlineCheckPeriod(shortest)).unref();
  }

  protected acceptPlain(accepted: ClientHandle | Socket, client: ProxiedClient | null): void {
    this.serve(accepted instanceof Socket ? new SocketStream(accepted) : plainStream(accepted), null, client);
  }

  protected acceptSecure(socket: TLSSocket, client: ProxiedClient | null): void {
    this.serve(new SocketStream(socket), socket, client);
  }

  private serve(stream: ClientStream, tls: TLSSocket | null, client: ProxiedClient | null): void {
    const connection = new Connection(stream, this, tls, client);
    this.connections.add(connection);
    if (this.draining) connection.shutdown(false);
  }

  dispatch(exchange: Exchange): void {
    this.countRequest();
    this.handler(exchange);
  }

  closed(connection: Connection): void {
    this.connections.delete(connection);
    this.connectionGone();
  }

  private sweep(): void {
    const now = loopNow();
    this.connections.forEach((connection) => {
      if (connection.deadline !== 0 && now >= connection.deadline) connection.timedOut();
    });
  }

  protected drainConnections(closeIdle: boolean): void {
    this.connections.forEach((connection) => connection.shutdown(closeIdle));
  }

  destroy(): void {
    clearInterval(this.sweeper);
    this.connections.forEach((connection) => connection.closeNow());
  }
}
