// One client socket: reads into the parser, hands each request to the server's
// handler as an Exchange, and decides what happens between requests:
// keep-alive, pipelining (one request at a time, in order), timeouts, flow
// control, and closing. After a `close` nothing more is parsed; bytes still
// arriving are read and dropped for a moment (a lingering close) so that the
// last response is not lost to a reset.

import { Socket } from 'node:net';
import type { ClientHandle } from '../listen/bind.js';
import { loopNow } from './clock.js';
import type { ParseError } from './errors.js';
import { Exchange, ResponseState } from './exchange.js';
import { RequestParser, type ParserEvents, type RequestHead } from './parser.js';
import type { HttpServer } from './server.js';
import { errorResponse } from './writer.js';

/** Where a connection is between requests. */
export const Phase = {
  /** Waiting for (the rest of) a request head. */
  HEAD: 0,
  /** A request is being answered. */
  ACTIVE: 1,
  /** Between requests on a persistent connection. */
  IDLE: 2,
  /** Our side is closed; reading and dropping until the client closes too. */
  CLOSING: 3,
  CLOSED: 4,
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** Pipelined bytes held while a request is answered before the socket stops being read. */
const PIPELINE_BUFFER_LIMIT = 64 * 1024;
/** How long a closing connection drops late bytes before it is torn down. */
export const LINGER_MS = 2000;

const ignore = () => {};

/**
 * What every socket reads into: libuv fills it and the callback below lends
 * the bytes to the parser, which copies what it keeps. Sockets reading into
 * buffers of their own allocate 64 KiB and make an ArrayBuffer for each read.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

const CONNECTION = Symbol('connection');
type SocketWithConnection = Socket & { [CONNECTION]: Connection };
function onSocketRead(this: SocketWithConnection, length: number, buffer: Buffer): void {
  this[CONNECTION].onData(buffer.subarray(0, length));
}
function onSocketEnd(this: SocketWithConnection): void {
  this[CONNECTION].onEnd();
}
function onSocketDrain(this: SocketWithConnection): void {
  this[CONNECTION].onDrain();
}
function onSocketClose(this: SocketWithConnection): void {
  this[CONNECTION].onClose();
}

export class Connection implements ParserEvents {
  readonly parser: RequestParser;
  phase: Phase = Phase.HEAD;
  exchange: Exchange | null = null;
  requests = 0;
  /** When the current wait times out (ms since the epoch); 0: no deadline. */
  deadline: number;
  /** No further request on this connection (server stopping, harakiri). */
  private lastRequest = false;
  /** The client half-closed: the requests it sent are answered, then the connection closes. */
  private clientEnded = false;
  private paused = false;
  /** Reads and writes of the current exchange waiting on the client. */
  private awaiting = 0;
  private drainWaiters: Array<() => void> = [];
  /** Responses held while input is parsed (see batched()). */
  private batch: Array<Uint8Array | string> | null = null;
  /** A request parsed but not yet handed to the app (see dispatchParsed()). */
  private undispatched: Exchange | null = null;

  readonly socket: Socket;

  constructor(
    handle: ClientHandle,
    readonly server: HttpServer,
  ) {
    this.parser = new RequestParser(server.limits, this);
    this.deadline = loopNow() + server.timeouts.header;
    const socket = new Socket({ handle, allowHalfOpen: true, onread: { buffer: READ_BUFFER, callback: onSocketRead } } as ConstructorParameters<typeof Socket>[0]);
    this.socket = socket;
    socket.setNoDelay(true);
    // Shared listeners that find the connection on the socket: nothing allocated per connection for them.
    (socket as SocketWithConnection)[CONNECTION] = this;
    socket.on('end', onSocketEnd);
    socket.on('drain', onSocketDrain);
    socket.on('error', ignore);
    socket.on('close', onSocketClose);
  }

  get idle(): boolean {
    return this.phase === Phase.IDLE || (this.phase === Phase.HEAD && this.parser.buffered === 0);
  }

  // ---- socket events --------------------------------------------------------

  /** Bytes read, lent: valid only until this returns (the parser copies what it keeps). */
  onData(chunk: Buffer): void {
    switch (this.phase) {
      case Phase.CLOSING:
      case Phase.CLOSED:
        return;
      case Phase.IDLE:
        this.phase = Phase.HEAD;
        this.deadline = loopNow() + this.server.timeouts.header;
        break;
      case Phase.ACTIVE:
        if (this.awaiting > 0) this.deadline = loopNow() + this.server.timeouts.inactivity;
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
    if (exchange === this.exchange && exchange.response === ResponseState.PENDING) this.server.dispatch(exchange);
  }

  private flushBatch(): void {
    const batch = this.batch;
    this.batch = null;
    if (batch === null || batch.length === 0 || this.phase === Phase.CLOSED) return;
    if (batch.length === 1) {
      this.send(batch[0]!);
    } else if (batch.every((piece) => typeof piece === 'string')) {
      this.socket.write(batch.join(''), 'latin1');
    } else {
      this.socket.cork();
      for (const piece of batch) this.send(piece);
      this.socket.uncork();
    }
  }

  onEnd(): void {
    if (this.phase === Phase.ACTIVE) {
      // The client half-closed: answer what it sent, pipelined requests
      // included (nextRequest() closes once no whole request is left).
      this.clientEnded = true;
      if (this.exchange !== null) {
        this.exchange.clientEnded();
        this.endOfInput(this.exchange);
      }
      return;
    }
    this.closeNow();
  }

  /** No more bytes will come: a body still incomplete never will be, and this request is the last. */
  private endOfInput(exchange: Exchange): void {
    if (exchange.bodyComplete) return;
    this.lastRequest = true;
    this.parser.stop();
    exchange.failBody(new Error('the client closed before sending the whole body'));
    if (exchange.response === ResponseState.DONE) this.closeGracefully();
  }

  onDrain(): void {
    if (this.awaiting > 0) this.deadline = loopNow() + this.server.timeouts.inactivity;
    this.releaseDrainWaiters();
  }

  onClose(): void {
    this.phase = Phase.CLOSED;
    this.parser.stop();
    const exchange = this.exchange;
    this.exchange = null;
    if (exchange !== null) exchange.connectionClosed();
    this.releaseDrainWaiters();
    this.server.remove(this);
  }

  /** From the server's sweep: the current deadline has passed. */
  timedOut(): void {
    if (this.phase === Phase.HEAD && this.parser.buffered > 0) {
      // Part of a head arrived, the rest did not in time.
      this.write(errorResponse(408, this.server.serverSoftware));
      this.closeGracefully();
    } else if (this.phase === Phase.HEAD || this.phase === Phase.IDLE) {
      this.closeGracefully();
    } else {
      this.closeNow();
    }
  }

  // ---- parser events --------------------------------------------------------

  onHead(head: RequestHead): void {
    this.requests++;
    this.phase = Phase.ACTIVE;
    this.deadline = 0;
    const keepAlive = head.keepAlive && this.requests < this.server.maxKeepaliveRequests;
    const exchange = new Exchange(this, head, keepAlive);
    this.exchange = exchange;
    this.undispatched = exchange;
  }

  onBody(chunk: Buffer): void {
    this.exchange?.pushBody(chunk);
  }

  onMessageEnd(): void {
    const exchange = this.exchange;
    if (exchange === null) return;
    exchange.endBody();
    if (exchange.response === ResponseState.DONE) this.nextRequest();
  }

  onError(error: ParseError): void {
    const exchange = this.exchange;
    if (exchange === null) {
      this.write(errorResponse(error.status, this.server.serverSoftware));
      this.closeGracefully();
      return;
    }
    exchange.failBody(error);
    if (exchange.response === ResponseState.PENDING) exchange.respondError(error.status, true);
    else if (exchange.response === ResponseState.DONE) this.closeGracefully();
    else this.closeNow();
  }

  // ---- from the exchange ----------------------------------------------------

  /** Writes bytes or latin1 strings (a response head, ASCII text); several pieces go out in one writev. */
  write(data: Uint8Array | string, more?: Uint8Array): boolean {
    if (this.phase === Phase.CLOSED) return false;
    if (this.batch !== null) {
      this.batch.push(data);
      if (more !== undefined) this.batch.push(more);
      return true;
    }
    if (more === undefined) return this.send(data);
    this.socket.cork();
    this.send(data);
    const writable = this.send(more);
    this.socket.uncork();
    return writable;
  }

  private send(data: Uint8Array | string): boolean {
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  /** Resolves once the socket's buffer has drained (or the connection is gone). */
  drained(): Promise<void> {
    if (this.phase === Phase.CLOSED || !this.socket.writableNeedDrain) return Promise.resolve();
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

  /** Counts reads and writes waiting on the client: while any wait, --timeout applies. */
  awaitClient(waiting: boolean): void {
    this.awaiting += waiting ? 1 : -1;
    if (this.phase === Phase.ACTIVE) this.deadline = this.awaiting > 0 ? loopNow() + this.server.timeouts.inactivity : 0;
  }

  /** Whether a response written now may keep the connection open. */
  mayKeepAlive(): boolean {
    return !this.lastRequest && !this.server.draining && this.phase !== Phase.CLOSING && this.phase !== Phase.CLOSED;
  }

  responseDone(exchange: Exchange): void {
    if (exchange !== this.exchange) return;
    if (!exchange.keepAlive) {
      this.closeGracefully();
    } else if (exchange.bodyComplete) {
      this.nextRequest();
    } else {
      // The app answered without reading all of the body: drop the rest, then go on.
      exchange.discardBody();
    }
  }

  /** Pauses reading while unread body bytes or pipelined requests pile up. */
  updateFlow(): void {
    const exchange = this.exchange;
    const full =
      this.phase !== Phase.CLOSING &&
      ((exchange !== null && exchange.bodyBacklogged) || this.parser.buffered > PIPELINE_BUFFER_LIMIT);
    if (full && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!full && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  // ---- between requests -----------------------------------------------------

  private nextRequest(): void {
    this.exchange = null;
    if (this.lastRequest || this.server.draining) {
      this.closeGracefully();
      return;
    }
    if (this.socket.writableNeedDrain) {
      // The client is not reading the answers: take no further (pipelined)
      // request until it does, or their answers would pile up here without
      // bound. Still ACTIVE meanwhile, under --timeout.
      void this.drained().then(() => {
        if (this.phase === Phase.ACTIVE && this.exchange === null) this.nextRequest();
      });
      return;
    }
    this.phase = Phase.IDLE;
    this.deadline = loopNow() + this.server.timeouts.keepalive;
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
      this.deadline = loopNow() + this.server.timeouts.header;
    }
  }

  /** The server is stopping or retiring: no request after the current one; idle connections close at once when `closeIdle`. */
  shutdown(closeIdle: boolean): void {
    this.lastRequest = true;
    if (closeIdle && this.idle) this.closeGracefully();
  }

  /** Ends our side after what was written, then drops late bytes until the client closes. */
  closeGracefully(): void {
    if (this.phase === Phase.CLOSING || this.phase === Phase.CLOSED) return;
    this.flushBatch();
    this.phase = Phase.CLOSING;
    this.parser.stop();
    this.deadline = loopNow() + LINGER_MS;
    this.socket.end();
    this.updateFlow();
  }

  closeNow(): void {
    if (this.phase === Phase.CLOSED) return;
    this.parser.stop();
    this.socket.destroy();
  }
}
