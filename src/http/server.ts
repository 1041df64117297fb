// The HTTP/1.1 engine of one process: the connections it accepted, their
// timeouts (one sweep for all of them, instead of a timer per request), and
// stopping: graceful (idle connections closed, in-flight requests finished
// with `Connection: close`) or immediate. It knows requests only as Exchanges
// handed to `dispatch`; what answers them (the Fetch adapter) lives above.

import type { ClientHandle } from '../listen/bind.js';
import { loopNow } from './clock.js';
import { Connection } from './connection.js';
import type { Exchange } from './exchange.js';
import type { ParserLimits } from './parser.js';

export interface HttpServerOptions {
  limits: ParserLimits;
  /** Milliseconds. */
  headerTimeout: number;
  keepaliveTimeout: number;
  timeout: number;
  maxKeepaliveRequests: number;
  /** The Server header; '' for none. */
  serverSoftware: string;
  /** Answers one request. Must not throw. */
  dispatch: (exchange: Exchange) => void;
}

export class HttpServer {
  readonly connections = new Set<Connection>();
  readonly limits: ParserLimits;
  readonly timeouts: { header: number; keepalive: number; inactivity: number };
  readonly maxKeepaliveRequests: number;
  readonly serverSoftware: string;
  readonly dispatch: (exchange: Exchange) => void;
  /** Requests received, over all connections. */
  requests = 0;
  /** Stopping: no connection is kept alive after its current request. */
  draining = false;
  private readonly sweeper: NodeJS.Timeout;
  private emptied: (() => void) | null = null;

  constructor(options: HttpServerOptions) {
    this.limits = options.limits;
    this.timeouts = {
      header: options.headerTimeout,
      keepalive: options.keepaliveTimeout,
      inactivity: options.timeout,
    };
    this.maxKeepaliveRequests = options.maxKeepaliveRequests;
    this.serverSoftware = options.serverSoftware;
    const dispatch = options.dispatch;
    this.dispatch = (exchange) => {
      this.requests++;
      dispatch(exchange);
    };
    // Deadlines are checked a few times per shortest timeout, at most once a second.
    const shortest = Math.min(this.timeouts.header, this.timeouts.keepalive, this.timeouts.inactivity);
    const period = Math.min(1000, Math.max(10, shortest / 4));
    this.sweeper = setInterval(() => this.sweep(), period).unref();
  }

  /** Serves a newly accepted connection (while draining, for one request). */
  accept(handle: ClientHandle): void {
    const connection = new Connection(handle, this);
    this.connections.add(connection);
    if (this.draining) connection.shutdown(false);
  }

  remove(connection: Connection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0 && this.emptied !== null) this.emptied();
  }

  private sweep(): void {
    const now = loopNow();
    for (const connection of this.connections) {
      if (connection.deadline !== 0 && now >= connection.deadline) connection.timedOut();
    }
  }

  /**
   * Stops keeping connections alive and resolves when none is left. With
   * `closeIdle`, idle keep-alive connections close at once (a stop); without,
   * they close at their next response or keep-alive timeout (a retiring worker,
   * whose clients must not see a connection vanish under a request).
   */
  shutdown(closeIdle: boolean): Promise<void> {
    this.draining = true;
    const done = new Promise<void>((resolve) => {
      this.emptied = resolve;
    });
    for (const connection of this.connections) connection.shutdown(closeIdle);
    if (this.connections.size === 0) this.emptied!();
    return done;
  }

  /** Cuts every connection. */
  destroy(): void {
    clearInterval(this.sweeper);
    for (const connection of this.connections) connection.closeNow();
  }
}
