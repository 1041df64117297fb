// WebSockets for Fetch apps (context.upgradeWebSocket()). The protocol is the
// `ws` package's, an optional peer dependency loaded on first use (it is
// security-critical, and ws is its well-kept implementation). This module
// checks the handshake request, makes the WebSocket the app gets at once (the
// Deno shape: { socket, response }), and when the app returns that response,
// hands the connection over and lets ws answer 101 and take the socket. Each
// WebSocket made here is sent close 1001 (going away) when the server stops.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Exchange } from '../http/exchange.js';

/** --websocket-max-payload and --websocket-deflate. */
export interface WebSocketOptions {
  /** The largest message, in bytes (larger: close 1009). */
  maxPayload: number;
  /** Offer permessage-deflate to clients that ask for it. */
  deflate: boolean;
}

/** What upgradeWebSocket() takes. */
export interface UpgradeWebSocketOptions {
  /** The subprotocol to answer with, if the client offered it (Sec-WebSocket-Protocol). */
  protocol?: string;
}

/** The WebSocket API of the object the app gets (made by ws). */
export interface ServerWebSocket extends EventTarget {
  readonly readyState: number;
  readonly protocol: string;
  readonly bufferedAmount: number;
  binaryType: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void;
  close(code?: number, reason?: string): void;
}

/** What starlight uses of the ws package (whose types are no dependency of ours). */
export interface WsPackage {
  WebSocket: new (address: null, protocols: undefined, options: object) => ServerWebSocket & NodeJS.EventEmitter;
  WebSocketServer: new (options: object) => WsServer;
}

interface WsServer {
  readonly options: object;
  handleUpgrade(request: HandshakeRequest, socket: Duplex, head: Buffer, done: () => void): void;
}

/** The request as ws's handleUpgrade() reads it (node:http's IncomingMessage shape). */
interface HandshakeRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  /** The subprotocol the app chose. */
  readonly protocol: string | undefined;
}

/**
 * Loads the ws package (synchronously: upgradeWebSocket() returns its socket
 * at once), as found from each of `from` in turn (directories); by default
 * starlight's own location, then the current directory (a global starlight
 * serving an app that has ws). Throws an error saying how to install it.
 */
export function loadWsPackage(from: readonly string[] = [new URL('.', import.meta.url).pathname, process.cwd()]): WsPackage {
  for (const directory of from) {
    try {
      return createRequire(join(directory, 'noop.js'))('ws') as WsPackage;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  throw new Error('upgradeWebSocket() needs the ws package, which is not installed: npm install ws');
}

const ignore = () => {};

/** Sec-WebSocket-Key: 16 bytes in base64 (RFC 6455 §4.1). */
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** Why a request is not a WebSocket handshake; null if it is one. */
export function handshakeFault(exchange: Exchange): string | null {
  const head = exchange.head;
  if (head.method !== 'GET') return `the method is ${head.method}, not GET`;
  if (!head.upgrade || head.get('upgrade')?.toLowerCase() !== 'websocket') return 'it does not ask for Upgrade: websocket (with Connection: upgrade)';
  if (!WEBSOCKET_KEY.test(head.get('sec-websocket-key') ?? '')) return 'it has no valid Sec-WebSocket-Key';
  if (head.get('sec-websocket-version') !== '13') return 'its Sec-WebSocket-Version is not 13';
  return null;
}

/** The request's fields by lower-case name, repeated ones joined (as node:http gives them). */
function handshakeRequest(exchange: Exchange, protocol: string | undefined): HandshakeRequest {
  const head = exchange.head;
  const headers: Record<string, string> = {};
  for (let i = 0; i < head.fieldCount; i++) {
    const name = head.name(i);
    headers[name] = name in headers ? `${headers[name]}, ${head.value(i)}` : head.value(i);
  }
  return { method: head.method, url: head.target, headers, protocol };
}

/** A WebSocket made for a request, waiting for the app to return its response. */
interface PendingWebSocket {
  readonly exchange: Exchange;
  readonly socket: ServerWebSocket;
  readonly protocol: string | undefined;
}

/** One server's WebSockets: made on request, opened when their response is returned. */
export class WebSocketUpgrader {
  private ws: { server: WsServer; WebSocket: WsPackage['WebSocket'] } | null = null;
  private readonly pending = new WeakMap<Response, PendingWebSocket>();
  /** The WebSocket ws is opening (see open()). */
  private adopting: ServerWebSocket | null = null;

  constructor(private readonly options: WebSocketOptions) {}

  /** Loads ws on first use, with a server that opens the WebSockets made here. */
  private wsServer(): { server: WsServer; WebSocket: WsPackage['WebSocket'] } {
    if (this.ws !== null) return this.ws;
    const { WebSocket, WebSocketServer } = loadWsPackage();
    const upgrader = this;
    const server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: this.options.maxPayload,
      perMessageDeflate: this.options.deflate,
      // The app's choice, if the client offered it; else none (ws would take the first offered).
      handleProtocols: (offered: Set<string>, request: HandshakeRequest) => (request.protocol !== undefined && offered.has(request.protocol) ? request.protocol : false),
      // ws makes the WebSocket as it answers 101: it is given the one the app already has.
      WebSocket: function adopt() {
        const socket = upgrader.adopting!;
        upgrader.adopting = null;
        return socket;
      },
    });
    this.ws = { server, WebSocket };
    return this.ws;
  }

  /** upgradeWebSocket(): a WebSocket, not yet open, and the response that opens it when returned. */
  prepare(exchange: Exchange, options: UpgradeWebSocketOptions = {}): { socket: ServerWebSocket; response: Response } {
    const fault = handshakeFault(exchange);
    if (fault !== null) throw new TypeError(`upgradeWebSocket(): this request is not a WebSocket handshake: ${fault}`);
    if (options.protocol !== undefined && typeof options.protocol !== 'string') throw new TypeError('upgradeWebSocket(): `protocol` must be a string');
    const { server, WebSocket } = this.wsServer();
    const socket = new WebSocket(null, undefined, server.options);
    // ws also emits its errors (a client breaking the protocol) as node events: with none
    // listening, one would throw and end the process. The app sees them as 'error' events.
    socket.on('error', ignore);
    // A Response cannot say 101; this one does, and stands for the upgrade.
    const response = new Response(null, { status: 200 });
    Object.defineProperties(response, { status: { value: 101 }, statusText: { value: 'Switching Protocols' } });
    this.pending.set(response, { exchange, socket, protocol: options.protocol });
    return { socket, response };
  }

  /**
   * If `response` came from upgradeWebSocket(), opens its WebSocket (ws
   * answers 101 on the handed-over connection) and returns true.
   */
  open(exchange: Exchange, response: unknown): boolean {
    const pending = typeof response === 'object' && response !== null ? this.pending.get(response as Response) : undefined;
    if (pending === undefined) return false;
    this.pending.delete(response as Response);
    if (pending.exchange !== exchange) throw new Error("fetch() returned another request's upgradeWebSocket() response");
    const { socket: webSocket } = pending;
    const { socket, head } = exchange.takeOver(() => webSocket.close(1001, 'server going away'));
    this.adopting = webSocket;
    this.wsServer().server.handleUpgrade(handshakeRequest(exchange, pending.protocol), socket, head, () => {});
    this.adopting = null;
    return true;
  }
}
