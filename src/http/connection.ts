// One client connection: reads into the parser, hands each request to its
// server as an Exchange, and decides what happens between requests: keep-alive,
// pipelining (one request at a time, in order), timeouts, flow control, and
// closing. After a `close` nothing more is parsed; bytes still arriving are
// read and dropped for a moment (a lingering close) so that the last response
// is not lost to a reset. It knows its server only as a ConnectionHost and its
// bytes only as a ClientStream, and is the link through which its exchange's
// body and response reach them. An upgrade hands the connection over
// (handOver()): from then on it only waits for it to close, and tells its new
// owner when the server stops.

import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { ClientStream, Endpoints, StreamEvents } from '../listen/client-stream.js';
import type { ProxiedClient } from '../listen/proxy-protocol.js';
import { peerCertificateOf } from '../listen/tls.js';
import type { ExchangeLog } from './access.js';
import { loopNow } from './clock.js';
import type { Listed } from './connection-list.js';
import type { ParseError } from './errors.js';
import { AddressesOf, Exchange, type ConnectionAddresses, type ExchangeLink, type HandedOver } from './exchange.js';
import { ForwardedAddresses, headForwardingValues, type ForwardingTrust } from './forwarded.js';
import { LINGER_MS } from './limits.js';
import { RequestParser, type ParserEvents, type ParserLimits, type RequestHead } from './parser.js';
import { ResponseState, type ResponseWriter } from './response.js';
import { errorResponse } from './writer.js';

/** What a connection needs of the server that accepted it. */
export interface ConnectionHost {
  readonly limits: ParserLimits;
  /** Milliseconds. */
  readonly timeouts: { readonly header: number; readonly keepalive: number; readonly inactivity: number };
  readonly maxKeepaliveRequests: number;
  /** The Server header; '' for none. */
  readonly serverSoftware: string;
  /** Stopping: no connection is kept alive after its current request. */
  readonly draining: boolean;
  /** --forwarded-allow-ips; null when no peer is trusted. */
  readonly forwarding: ForwardingTrust | null;
  /** --access-log; null when requests are not logged. */
  readonly accessLog: ExchangeLog | null;
  /** Hands a request to the app. Must not throw. */
  dispatch(exchange: Exchange): void;
  /** The connection has closed. */
  closed(connection: Connection): void;
}

/** Where a connection is between requests. */
const Phase = {
  /** Waiting for (the rest of) a request head. */
  HEAD: 0,
  /** A request is being answered. */
  ACTIVE: 1,
  /** Between requests on a persistent connection. */
  IDLE: 2,
  /** Our side is closed; reading and dropping until the client closes too. */
  CLOSING: 3,
  CLOSED: 4,
  /** Handed over to another protocol (an upgrade): the socket is its new owner's. */
  UPGRADED: 5,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/** Pipelined bytes held while a request is answered before the socket stops being read. */
const PIPELINE_BUFFER_LIMIT = 64 * 1024;

/** A plain connection's addresses, read when asked (the stream keeps them once read). */
class PlainAddresses implements ConnectionAddresses {
  constructor(protected readonly ends: Endpoints) {}

  get remoteAddress(): string | undefined {
    return this.ends.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.ends.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.ends.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.ends.localAddress;
  }
  get localPort(): number | undefined {
    return this.ends.localPort;
  }
  get secure(): boolean {
    return false;
  }
  get peerCertificate(): PeerCertificate | null {
    return null;
  }
  get peerAuthorized(): boolean {
    return false;
  }
  get scheme(): string {
    return 'http';
  }
  get forwardedHost(): string | undefined {
    return undefined;
  }
}

/** A TLS socket's addresses, and the client's certificate. */
class TlsSocketAddresses extends PlainAddresses {
  constructor(private readonly socket: TLSSocket) {
    super(socket);
  }

  override get secure(): boolean {
    return true;
  }
  override get peerCertificate(): PeerCertificate | null {
    return peerCertificateOf(this.socket);
  }
  override get peerAuthorized(): boolean {
    return this.socket.authorized;
  }
  override get scheme(): string {
    return 'https';
  }
}

/** Under --proxy-protocol: the client the PROXY header named, in place of the socket's remote end. */
class ProxiedAddresses extends AddressesOf {
  constructor(
    socket: ConnectionAddresses,
    private readonly client: ProxiedClient,
  ) {
    super(socket);
  }

  override get remoteAddress(): string {
    return this.client.address;
  }
  override get remotePort(): number {
    return this.client.port;
  }
  override get remoteFamily(): string {
    return this.client.family;
  }
}

export class Connection implements ParserEvents, ExchangeLink, StreamEvents, Listed {
  readonly serverSoftware: string;
  /** Its place in its server's ConnectionList. */
  listIndex = -1;
  /** When the current wait times out (ms since the epoch); 0: no deadline. */
  deadline: number;
  private readonly parser: RequestParser;
  private readonly stream: ClientStream;
  private readonly addresses: ConnectionAddresses;
  private phase: Phase = Phase.HEAD;
  private exchange: Exchange | null = null;
  private requests = 0;
  /** No further request on this connection: it closes after the current response (server stopping, harakiri, a body cut short or too large to discard). */
  private closeAfterResponse = false;
  /**
   * The client half-closed. The requests it sent are answered, then the
   * connection closes; meanwhile --timeout bounds each wait, as a client that
   * left altogether cannot be told from one that waits for its answer.
   */
  private clientEnded = false;
  private paused = false;
  /** Reads and writes of the current exchange waiting on the client. */
  private awaiting = 0;
  private drainWaiters: Array<() => void> = [];
  /** Responses held while input is parsed (see batched()). */
  private batch: Array<Uint8Array | string> | null = null;
  /** A request parsed but not yet handed to the app (see dispatchParsed()). */
  private undispatched: Exchange | null = null;
  /** What a stopping server does to a handed-over socket (null: waits for it, then cuts it). */
  private onStop: (() => void) | null = null;

  /**
   * `tls`: the TLS socket `stream` is on, its handshake done; `client`: whom
   * the connection's PROXY header named.
   */
  constructor(stream: ClientStream, private readonly host: ConnectionHost, tls: TLSSocket | null, client: ProxiedClient | null) {
    this.serverSoftware = host.serverSoftware;
    this.parser = new RequestParser(host.limits, this);
    this.deadline = loopNow() + host.timeouts.header;
    this.stream = stream;
    const addresses = tls === null ? new PlainAddresses(stream.ends) : new TlsSocketAddresses(tls);
    this.addresses = client === null ? addresses : new ProxiedAddresses(addresses, client);
    stream.start(this);
  }

  private get idle(): boolean {
    return this.phase === Phase.IDLE || (this.phase === Phase.HEAD && this.parser.buffered === 0);
  }

  // ---- stream events --------------------------------------------------------

  /** Bytes read, lent: valid only until this returns (the parser copies what it keeps). */
  onData(chunk: Buffer): void {
    switch (this.phase) {
      case Phase.CLOSING:
      case Phase.CLOSED:
      case Phase.UPGRADED:
        return;
      case Phase.IDLE:
        this.phase = Phase.HEAD;
        this.deadline = loopNow() + this.host.timeouts.header;
        break;
      case Phase.ACTIVE:
        if (this.awaiting > 0) this.deadline = loopNow() + this.host.timeouts.inactivity;
        break;
    }
    this.batched(() => this.parser.execute(chunk));
    this.updateFlow();
  }

  /**
   * Runs `parse`, gathering the responses it writes (answers to pipelined
   * requests, when the app answers at once) into one socket write.
   */
  private batched(parse: () => void): void {
    if (this.batch !== null) {
      parse(); // inside the loop below, which hands out what this parses
      return;
    }
    this.batch = [];
    try {
      parse();
      // Answering a request may parse the next (pipelined) one: handed out in
      // turn, in this loop rather than by recursion.
      while (this.undispatched !== null) this.dispatchParsed();
    } finally {
      this.flushBatch();
    }
  }

  /**
   * Hands the app the request whose head the last input completed. Waiting
   * for the end of that input first means a body that came with the head is
   * all there when the app reads it, and a malformed one is refused before the
   * app ever sees the request.
   */
  private dispatchParsed(): void {
    const exchange = this.undispatched!;
    this.undispatched = null;
    if (exchange === this.exchange && exchange.state === ResponseState.PENDING) this.host.dispatch(exchange);
  }

  private flushBatch(): void {
    const batch = this.batch;
    this.batch = null;
    if (batch === null || batch.length === 0 || this.phase === Phase.CLOSED) return;
    if (batch.length === 1) this.stream.write(batch[0]!);
    else if (batch.every((piece) => typeof piece === 'string')) this.stream.write(batch.join(''));
    else this.stream.writev(batch);
  }

  onEnd(): void {
    if (this.phase !== Phase.ACTIVE) {
      this.closeNow();
      return;
    }
    // The client half-closed: answer what it sent, pipelined requests
    // included (nextRequest() closes once no whole request is left).
    this.clientEnded = true;
    const exchange = this.exchange;
    if (exchange !== null) {
      exchange.clientEnded();
      this.endOfInput(exchange);
    }
    // From now on the response is awaited under --timeout: an app that never
    // answers a client that left must not hold the socket for good.
    if (this.phase === Phase.ACTIVE) this.deadline = loopNow() + this.host.timeouts.inactivity;
  }

  /** No more bytes will come: a body still incomplete never will be, and this request is the last. */
  private endOfInput(exchange: Exchange): void {
    if (exchange.body.complete) return;
    this.closeAfterResponse = true;
    this.parser.stop();
    exchange.body.fail(new Error('the client closed before sending the whole body'));
    if (exchange.state === ResponseState.DONE) this.closeGracefully();
  }

  onDrain(): void {
    if (this.awaiting > 0) this.deadline = loopNow() + this.host.timeouts.inactivity;
    this.releaseDrainWaiters();
  }

  onClose(): void {
    this.phase = Phase.CLOSED;
    this.parser.stop();
    const exchange = this.exchange;
    this.exchange = null;
    if (exchange !== null) {
      // A complete response was logged as it completed; this one ends here, cut or never begun.
      if (exchange.state !== ResponseState.DONE) this.host.accessLog?.exchange(exchange);
      exchange.connectionClosed();
    }
    this.releaseDrainWaiters();
    this.host.closed(this);
  }

  /** From the server's sweep: the current deadline has passed. */
  timedOut(): void {
    if (this.phase === Phase.HEAD && this.parser.buffered > 0) {
      // Part of a head arrived, the rest did not in time.
      this.refuse(408);
      this.closeGracefully();
    } else if (this.phase === Phase.HEAD || this.phase === Phase.IDLE) {
      this.closeGracefully();
    } else {
      this.closeNow();
    }
  }

  /** A request's addresses when it has forwarding fields: theirs if the peer is trusted (--forwarded-allow-ips), else the connection's. */
  private forwardedAddresses(head: RequestHead): ConnectionAddresses {
    const trust = this.host.forwarding;
    if (trust === null || !trust.trusts(this.addresses.remoteAddress)) return this.addresses;
    const values = headForwardingValues(head);
    const facts = values === null ? null : trust.facts(values);
    return facts === null ? this.addresses : new ForwardedAddresses(this.addresses, facts);
  }

  // ---- parser events --------------------------------------------------------

  onHead(head: RequestHead): void {
    this.requests++;
    this.phase = Phase.ACTIVE;
    // (A request the client sent before its FIN is answered under --timeout: see onEnd().)
    this.deadline = this.clientEnded ? loopNow() + this.host.timeouts.inactivity : 0;
    const keepAlive = head.keepAlive && this.requests < this.host.maxKeepaliveRequests;
    const exchange = new Exchange(this, head, keepAlive, head.forwarded ? this.forwardedAddresses(head) : this.addresses);
    this.exchange = exchange;
    this.undispatched = exchange;
    if (this.host.accessLog !== null) exchange.startedAt = this.host.accessLog.start();
  }

  /** The server's own answer to a request whose head is not whole (malformed, too large, too slow), logged with what was read of it. */
  private refuse(status: number): void {
    this.host.accessLog?.refused(status, this.parser.lineRead, this.addresses);
    this.write(errorResponse(status, this.serverSoftware));
  }

  onBody(chunk: Buffer): void {
    this.exchange?.body.push(chunk);
  }

  onMessageEnd(): void {
    const exchange = this.exchange;
    if (exchange === null) return;
    exchange.body.end();
    if (exchange.state === ResponseState.DONE) this.nextRequest();
  }

  onError(error: ParseError): void {
    const exchange = this.exchange;
    if (exchange === null) {
      this.refuse(error.status);
      this.closeGracefully();
      return;
    }
    exchange.body.fail(error);
    if (exchange.state === ResponseState.PENDING) exchange.respondError(error.status, true);
    else if (exchange.state === ResponseState.DONE) this.closeGracefully();
    else this.closeNow();
  }

  // ---- from the exchange's body and response --------------------------------

  /** Writes bytes or latin1 strings (a response head, ASCII text); several pieces go out in one writev. */
  write(data: Uint8Array | string, more?: Uint8Array): boolean {
    if (this.phase === Phase.CLOSED) return false;
    // Writing is progress: a half-closed client's wait starts again (see onEnd()).
    if (this.clientEnded && this.phase === Phase.ACTIVE) this.deadline = loopNow() + this.host.timeouts.inactivity;
    if (this.batch !== null) {
      this.batch.push(data);
      if (more !== undefined) this.batch.push(more);
      return true;
    }
    return more === undefined ? this.stream.write(data) : this.stream.writev([data, more]);
  }

  /** Resolves once the socket's buffer has drained (or the connection is gone). */
  drained(): Promise<void> {
    if (this.phase === Phase.CLOSED || !this.stream.needsDrain) return Promise.resolve();
    this.awaitClient(true);
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private releaseDrainWaiters(): void {
    const waiters = this.drainWaiters;
    if (waiters.length === 0) return;
    this.drainWaiters = [];
    for (const resolve of waiters) {
      this.awaitClient(false);
      resolve();
    }
  }

  /** Counts reads and writes waiting on the client: while any wait (or the client has half-closed), --timeout applies. */
  awaitClient(waiting: boolean): void {
    this.awaiting += waiting ? 1 : -1;
    if (this.phase === Phase.ACTIVE) this.deadline = this.awaiting > 0 || this.clientEnded ? loopNow() + this.host.timeouts.inactivity : 0;
  }

  continueWanted(): void {
    this.exchange?.sendContinue();
  }

  /**
   * The app left more of the body unread than is worth discarding: no
   * request after this one, and once the response is out the close lingers
   * (dropping the rest).
   */
  tooMuchToDiscard(): void {
    this.closeAfterResponse = true;
    if (this.exchange !== null && this.exchange.state === ResponseState.DONE) this.closeGracefully();
  }

  mayKeepAlive(): boolean {
    return !this.closeAfterResponse && !this.host.draining && this.phase !== Phase.CLOSING && this.phase !== Phase.CLOSED;
  }

  lastRequest(): void {
    this.closeAfterResponse = true;
  }

  responseDone(response: ResponseWriter): void {
    const exchange = this.exchange;
    if (response !== exchange) return;
    this.host.accessLog?.exchange(exchange);
    if (!exchange.keepAlive || this.closeAfterResponse) {
      this.closeGracefully();
    } else if (exchange.body.complete) {
      this.nextRequest();
    } else {
      // The app answered without reading all of the body: drop the rest, then go on.
      exchange.body.discard();
    }
  }

  /** Pauses reading while unread body bytes or pipelined requests pile up. */
  updateFlow(): void {
    const exchange = this.exchange;
    const full =
      this.phase !== Phase.CLOSING &&
      ((exchange !== null && exchange.body.backlogged) || this.parser.buffered > PIPELINE_BUFFER_LIMIT);
    if (full && !this.paused) {
      this.paused = true;
      this.stream.pause();
    } else if (!full && this.paused) {
      this.paused = false;
      this.stream.resume();
    }
  }

  handOver(onStop: (() => void) | null): HandedOver {
    // Answers to pipelined requests before this one go out first.
    this.flushBatch();
    this.phase = Phase.UPGRADED;
    this.deadline = 0;
    this.exchange = null;
    this.onStop = onStop;
    const head = this.parser.detach();
    this.releaseDrainWaiters();
    this.paused = false;
    const socket = this.stream.handOver();
    // Upgraded while the server stops (a request that came as it began): told once its new owner has it.
    if (this.host.draining) queueMicrotask(() => this.shutdown(false));
    return { socket, head };
  }

  // ---- between requests -----------------------------------------------------

  private nextRequest(): void {
    this.exchange = null;
    if (this.closeAfterResponse || this.host.draining) {
      this.closeGracefully();
      return;
    }
    if (this.stream.needsDrain) {
      // The client is not reading the answers: take no further (pipelined)
      // request until it does, or their answers would pile up here without
      // bound. Still ACTIVE meanwhile, under --timeout.
      void this.drained().then(() => {
        if (this.phase === Phase.ACTIVE && this.exchange === null) this.nextRequest();
      });
      return;
    }
    this.phase = Phase.IDLE;
    this.deadline = loopNow() + this.host.timeouts.keepalive;
    this.updateFlow();
    this.batched(() => this.parser.resume());
    if (this.clientEnded) {
      // Only what is buffered is left: a request it holds whole is answered, nothing else.
      if ((this.phase as Phase) === Phase.ACTIVE && this.exchange !== null) this.endOfInput(this.exchange);
      else this.closeGracefully();
      return;
    }
    if (this.phase === Phase.IDLE && this.parser.buffered > 0) {
      this.phase = Phase.HEAD;
      this.deadline = loopNow() + this.host.timeouts.header;
    }
  }

  /**
   * The server is stopping or retiring: no request after the current one; idle connections close
   * at once when `closeIdle`. A connection that has not brought its first request is not idle:
   * its client connected to send one (it may have been accepted a moment before the stop, from a
   * socket that another server goes on serving), and it is answered, with `Connection: close`.
   */
  shutdown(closeIdle: boolean): void {
    if (this.phase === Phase.UPGRADED) {
      const onStop = this.onStop;
      this.onStop = null;
      onStop?.();
      return;
    }
    this.closeAfterResponse = true;
    if (closeIdle && this.idle && this.requests > 0) this.closeGracefully();
  }

  /** Ends our side after what was written, then drops late bytes until the client closes. */
  private closeGracefully(): void {
    if (this.phase === Phase.CLOSING || this.phase === Phase.CLOSED) return;
    this.flushBatch();
    this.phase = Phase.CLOSING;
    this.parser.stop();
    this.deadline = loopNow() + LINGER_MS;
    this.stream.end();
    this.updateFlow();
  }

  closeNow(): void {
    if (this.phase === Phase.CLOSED) return;
    this.parser.stop();
    this.stream.destroy();
  }
}
