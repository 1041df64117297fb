// One request on a connection, as the adapters get it: its head, its body
// (request-body.ts), the response being written (response.ts: the exchange is
// that response, so a request costs one object), the connection's addresses,
// whether the client went away before the response was complete, and the
// hand-over of the connection to another protocol (an upgrade).

import type { Socket } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import type { RequestHead } from './parser.js';
import { EMPTY_BODY, RequestBody, bodyIsForApp, type BodyLink } from './request-body.js';
import { ResponseState, ResponseWriter, type ResponseLink } from './response.js';

/** A connection handed over to another protocol: its socket, and the bytes that came after the request. */
export interface HandedOver {
  readonly socket: Socket;
  readonly head: Buffer;
}

/** What an upgrade needs of the connection. */
export interface UpgradeLink {
  /**
   * Leaves the socket to its new owner: no more parsing, no HTTP timeouts. The
   * connection still counts as open until the socket closes; `onStop` is what a
   * stopping server does to it (null: wait for it, then cut it).
   */
  handOver(onStop: (() => void) | null): HandedOver;
}

/** What an exchange, its body and its response need of the connection. */
export type ExchangeLink = BodyLink & ResponseLink & UpgradeLink;

/** The connection's two ends, read when asked, and whether it is TLS (with the client's certificate, if it gave one). */
export interface ConnectionAddresses {
  readonly secure: boolean;
  readonly peerCertificate: PeerCertificate | null;
  /** The client's certificate was verified against --ssl-ca-file. */
  readonly peerAuthorized: boolean;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly remoteFamily: string | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** The scheme the client used: https over TLS, or what a trusted proxy said (--forwarded-allow-ips). */
  readonly scheme: string;
  /** The host the client asked a trusted proxy for; undefined: the request's own Host. */
  readonly forwardedHost: string | undefined;
}

/** Another connection's addresses, passed through: the base of those that put a proxy's word in place of some. */
export class AddressesOf implements ConnectionAddresses {
  constructor(protected readonly connection: ConnectionAddresses) {}

  get secure(): boolean {
    return this.connection.secure;
  }
  get peerCertificate(): PeerCertificate | null {
    return this.connection.peerCertificate;
  }
  get peerAuthorized(): boolean {
    return this.connection.peerAuthorized;
  }
  get remoteAddress(): string | undefined {
    return this.connection.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.connection.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.connection.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.connection.localAddress;
  }
  get localPort(): number | undefined {
    return this.connection.localPort;
  }
  get scheme(): string {
    return this.connection.scheme;
  }
  get forwardedHost(): string | undefined {
    return this.connection.forwardedHost;
  }
}

export class Exchange extends ResponseWriter {
  private abortListeners: Array<() => void> | null = null;
  /** The client went away before the response was complete (see onAbort). */
  private clientGone = false;
  /** When the head was whole, where requests are logged and timed (--access-log: see AccessLog.start()). */
  startedAt = 0;

  /** (The connection, seen whole.) */
  protected declare readonly link: ExchangeLink;

  constructor(
    link: ExchangeLink,
    head: RequestHead,
    keepAlive: boolean,
    readonly addresses: ConnectionAddresses,
  ) {
    super(link, head, head.hasBody ? new RequestBody(link, head.expectContinue) : EMPTY_BODY, keepAlive);
  }

  /** The request line, for logs. */
  get requestLine(): string {
    return `${this.head.method} ${this.head.target} HTTP/1.${this.head.minor}`;
  }

  /** Whether the app is given the request's body (see bodyIsForApp()). */
  get bodyForApp(): boolean {
    return this.head.hasBody && bodyIsForApp(this.head.method);
  }

  /** Calls `listener` if (or as soon as) the client goes away before the response is complete. */
  onAbort(listener: () => void): void {
    if (this.clientGone) listener();
    else (this.abortListeners ??= []).push(listener);
  }

  /**
   * From the connection: the client ended its side while the response was not
   * complete. The response may still be written, but for a long poll or an
   * event stream this is how a client that left shows itself, so the request
   * is aborted (as Node's and Go's servers do).
   */
  clientEnded(): void {
    if (this.state !== ResponseState.DONE) this.goneBeforeDone();
  }

  /**
   * Hands the connection over to another protocol instead of answering (see
   * UpgradeLink.handOver()). Only before any response, and once the request's
   * body has all been read: the bytes after it are the new protocol's.
   */
  takeOver(onStop: (() => void) | null): HandedOver {
    if (this.state !== ResponseState.PENDING) throw new Error('the connection cannot be upgraded: the response has begun or the client is gone');
    if (!this.body.complete) throw new Error('the connection cannot be upgraded before the request body has been read to its end');
    this.handedOver();
    return this.link.handOver(onStop);
  }

  /** From the connection: the socket closed. */
  connectionClosed(): void {
    if (!this.body.complete) this.body.fail(new Error('the client closed the connection'));
    if (this.connectionLost()) this.goneBeforeDone();
  }

  private goneBeforeDone(): void {
    if (this.clientGone) return;
    this.clientGone = true;
    const listeners = this.abortListeners;
    this.abortListeners = null;
    if (listeners !== null) for (const listener of listeners) listener();
  }
}
