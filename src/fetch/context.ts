// The second argument of fetch(request, context): what PSGI kept in `env`
// beyond the request itself: the connection's addresses, whether it is TLS
// and the client's certificate, the worker, and the
// server's hooks (harakiri, waitUntil, informational responses, and the
// upgrades: upgradeWebSocket() and the raw upgrade()).

import type { PeerCertificate } from 'node:tls';
import type { Exchange, HandedOver } from '../http/exchange.js';
import type { ServerWebSocket, UpgradeWebSocketOptions, WebSocketUpgrader } from './websocket.js';

export interface WorkerInfo {
  /** 1-based worker number (0 when the server runs without workers). */
  readonly id: number;
  readonly pid: number;
  /** Requests this worker has received so far. */
  readonly requests: number;
}

/** What the worker does for the hooks a request may call. */
export interface ServerHooks {
  readonly worker: WorkerInfo;
  /** After this response, the worker exits and is replaced. */
  harakiri(): void;
  /** Work the worker must finish before it may exit. */
  waitUntil(promise: Promise<unknown>): void;
}

export class RequestContext {
  constructor(
    private readonly exchange: Exchange,
    private readonly hooks: ServerHooks,
    private readonly websockets: WebSocketUpgrader,
  ) {}

  get remoteAddress(): string | undefined {
    return this.exchange.addresses.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.exchange.addresses.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.exchange.addresses.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.exchange.addresses.localAddress;
  }
  get localPort(): number | undefined {
    return this.exchange.addresses.localPort;
  }
  /** Whether the connection is TLS (--ssl). */
  get secure(): boolean {
    return this.exchange.addresses.secure;
  }
  /** The client's certificate (node:tls's getPeerCertificate()), null when it presented none or the connection is not TLS. */
  get peerCertificate(): PeerCertificate | null {
    return this.exchange.addresses.peerCertificate;
  }
  /** Whether that certificate was verified against --ssl-ca-file (with --ssl-verify-mode=1 an unverified one is let through). */
  get peerAuthorized(): boolean {
    return this.exchange.addresses.peerAuthorized;
  }
  get worker(): WorkerInfo {
    return this.hooks.worker;
  }

  /** Finish this response, then this worker exits and is replaced (psgix.harakiri). */
  harakiri(): void {
    this.exchange.closeConnection();
    this.hooks.harakiri();
  }

  /** Work that must finish before the worker may exit (psgix.cleanup). */
  waitUntil(promise: Promise<unknown>): void {
    this.hooks.waitUntil(Promise.resolve(promise));
  }

  /** Sends a 1xx interim response, e.g. 103 Early Hints, before the final one. */
  informational(status: number, headers?: ConstructorParameters<typeof Headers>[0]): void {
    if (!Number.isInteger(status) || status < 100 || status > 199 || status === 101) {
      throw new RangeError(`informational() takes a 1xx status other than 101, not ${status}`);
    }
    this.exchange.informational(status, [...new Headers(headers)]);
  }

  /**
   * For a WebSocket handshake: the WebSocket (made by the ws package, open once
   * `response`, the 101, is returned from fetch()) and that response.
   */
  upgradeWebSocket(options?: UpgradeWebSocketOptions): { socket: ServerWebSocket; response: Response } {
    return this.websockets.prepare(this.exchange, options);
  }

  /**
   * For an Upgrade request (psgix.io): the connection's socket and the bytes
   * read after the request; starlight takes no further part in it, and what
   * fetch() returns is ignored. The app answers (101) on the socket itself.
   */
  upgrade(): HandedOver {
    if (!this.exchange.head.upgrade) throw new TypeError('upgrade(): this request does not ask for an upgrade (Connection: upgrade with an Upgrade field)');
    return this.exchange.takeOver(null);
  }
}
