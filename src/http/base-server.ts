// What the two servers of a process's connections share, this engine's
// (server.ts) and the Node-app one (node/server.ts): the count of the requests
// they received, with a hook called for each, and stopping by draining. A
// draining server keeps no connection alive after its current request, closes
// idle ones at once when told to, and resolves once none is left. How one
// connection is drained is each server's own. Under --proxy-protocol, each
// accepted connection's PROXY header is read here first (within
// --header-timeout), before any TLS handshake; a connection whose first bytes
// are not one is closed.

import { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ClientHandle } from '../listen/bind.js';
import { ForwardingTrust } from './forwarded.js';
import { ProxyHeaderReader, type ProxiedClient, type ProxyHeader } from '../listen/proxy-protocol.js';
import { TlsHandshaker, isTcpHandle, type TlsMaterial } from '../listen/tls.js';
import type { AccessLog } from '../log/access-log.js';

/** What both servers take: the limits, timeouts and Server header of the options, and a per-request hook. */
export interface ServerOptions {
  /** Request line plus header fields, in bytes (over it: 431). */
  maxHeaderSize: number;
  /** Header fields per request (over it: 431). */
  maxHeaders: number;
  /** Request body, in bytes (over it: 413). */
  maxBodySize: number;
  /** Milliseconds. */
  headerTimeout: number;
  keepaliveTimeout: number;
  timeout: number;
  maxKeepaliveRequests: number;
  /** The Server header; '' for none. */
  serverSoftware: string;
  /** Called for each request once it is counted, before the app is handed it. */
  onRequest?: () => void;
  /** Called after each connection has closed. */
  onConnectionGone?: () => void;
  /** --ssl: connections accepted on TCP listeners are served over TLS (its handshake within headerTimeout). */
  tls?: TlsMaterial | null;
  /** --forwarded-allow-ips: the peers whose forwarding fields are believed ('*': any); none when absent. */
  forwardedAllowIps?: readonly string[];
  /** --proxy-protocol: every connection begins with a PROXY header (read within headerTimeout). */
  proxyProtocol?: boolean;
  /** --access-log: where each request's line goes; none when absent. */
  accessLog?: AccessLog | null;
}

const ignore = () => {};

/** The --forwarded-allow-ips of a server's options; null when no peer is trusted. */
export function forwardingTrust(options: ServerOptions): ForwardingTrust | null {
  const allowed = options.forwardedAllowIps ?? [];
  return allowed.length === 0 ? null : new ForwardingTrust(allowed);
}

export abstract class BaseServer {
  /** Requests received, over all connections. */
  requests = 0;
  private stopping = false;
  private drained: Promise<void> | null = null;
  private emptied: (() => void) | null = null;

  private readonly onRequest: (() => void) | undefined;
  private readonly onConnectionGone: (() => void) | undefined;
  private readonly handshaker: TlsHandshaker | null;
  private readonly proxyProtocol: boolean;
  private readonly headerTimeout: number;

  constructor(options: ServerOptions) {
    this.onRequest = options.onRequest;
    this.onConnectionGone = options.onConnectionGone;
    this.handshaker = options.tls == null ? null : new TlsHandshaker(options.tls, options.headerTimeout, (socket, client) => this.acceptSecure(socket, client));
    this.proxyProtocol = options.proxyProtocol === true;
    this.headerTimeout = options.headerTimeout;
  }

  /** The open connections (a TLS one from the end of its handshake). */
  abstract readonly connections: { readonly size: number };
  /**
   * Serves a plain connection (while draining, for one request): its handle,
   * or, under --proxy-protocol, the socket made by proxiedSocket() once its
   * header naming `client` was read.
   */
  protected abstract acceptPlain(accepted: ClientHandle | Socket, client: ProxiedClient | null): void;
  /** Serves a TLS connection whose handshake is done (while draining, for one request). */
  protected abstract acceptSecure(socket: TLSSocket, client: ProxiedClient | null): void;
  /** The socket a connection's PROXY header is read from, then served by acceptPlain(). */
  protected proxiedSocket(handle: ClientHandle): Socket {
    return new Socket({ handle, allowHalfOpen: true } as ConstructorParameters<typeof Socket>[0]);
  }
  /** Cuts every connection. */
  abstract destroy(): void;
  /** No connection is kept alive after its current request; with `closeIdle`, idle ones close now. */
  protected abstract drainConnections(closeIdle: boolean): void;

  /** Serves a newly accepted connection: over TLS if it came through a TCP listener and --ssl is on. */
  accept(handle: ClientHandle): void {
    if (this.proxyProtocol) this.readProxyHeader(handle);
    else if (this.handshaker !== null && isTcpHandle(handle)) this.handshaker.accept(handle);
    else this.acceptPlain(handle, null);
  }

  /**
   * Reads a connection's PROXY header, then serves it with what followed the
   * header put back; closes it if its first bytes are not a header or the
   * header is not whole within headerTimeout of the accept.
   */
  private readProxyHeader(handle: ClientHandle): void {
    const secure = this.handshaker !== null && isTcpHandle(handle);
    const socket = this.proxiedSocket(handle);
    const reader = new ProxyHeaderReader();
    const deadline = setTimeout(() => socket.destroy(), this.headerTimeout).unref();
    const read = (chunk: Buffer) => {
      let header: ProxyHeader | null;
      try {
        header = reader.feed(chunk);
      } catch {
        socket.destroy();
        return;
      }
      if (header === null) return;
      clearTimeout(deadline);
      socket.off('data', read);
      socket.off('close', stop);
      socket.off('error', ignore);
      if (secure) {
        // Paused, what followed the header (often the ClientHello, in the same
        // segment) stays buffered until node:tls reads the wrapped socket's
        // buffer, a turn later; flowing, it would be emitted to no listener first.
        socket.pause();
        if (header.rest.length > 0) socket.unshift(header.rest);
        this.handshaker!.accept(socket, header.client);
      } else {
        // Still flowing: what follows the header is emitted to the listener acceptPlain() adds now.
        if (header.rest.length > 0) socket.unshift(header.rest);
        this.acceptPlain(socket, header.client);
      }
    };
    const stop = () => clearTimeout(deadline);
    socket.on('data', read);
    socket.on('error', ignore);
    socket.once('close', stop);
  }

  /** Stopping: no connection is kept alive after its current request. */
  get draining(): boolean {
    return this.stopping;
  }

  /** Counts a request about to be handed to the app. */
  protected countRequest(): void {
    this.requests++;
    if (this.onRequest !== undefined) this.onRequest();
  }

  /** A connection has closed (and left `connections`). */
  protected connectionGone(): void {
    if (this.onConnectionGone !== undefined) this.onConnectionGone();
    this.resolveIfEmptied();
  }

  private resolveIfEmptied(): void {
    if (this.connections.size === 0 && this.emptied !== null) this.emptied();
  }

  /**
   * Stops keeping connections alive and resolves when none is left. With
   * `closeIdle`, idle keep-alive connections close at once (a stop); without,
   * they close at their next response or keep-alive timeout (a retiring worker,
   * whose clients must not see a connection vanish under a request).
   */
  shutdown(closeIdle: boolean): Promise<void> {
    this.stopping = true;
    this.drained ??= new Promise<void>((resolve) => {
      this.emptied = resolve;
    });
    this.drainConnections(closeIdle);
    this.resolveIfEmptied(); // (none may be open)
    return this.drained;
  }
}
