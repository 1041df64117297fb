// One request and its response on a connection. The request body arrives
// from the parser and waits here until the app reads it (a `100 Continue` goes
// out on the first read); the response goes out through the writer, either
// whole in one write or as a stream with backpressure. Whatever the app does,
// the bytes on the wire stay well framed: a response that cannot be finished
// correctly is cut, never padded or truncated silently.

import type { Connection } from './connection.js';
import { RequestBodyError } from './errors.js';
import type { RequestHead } from './parser.js';
import {
  ERROR_FIELDS,
  Framing,
  LAST_CHUNK,
  chunkFrame,
  errorBody,
  fieldBlock,
  headAndBody,
  informationalHead,
  isBodiless,
  responseHead,
} from './writer.js';

export type HeaderFields = ReadonlyArray<readonly [string, string]>;

/** The response's progress. */
export const ResponseState = {
  /** Nothing sent yet (a 1xx may have gone out). */
  PENDING: 0,
  /** The head is out, body chunks are being written. */
  STREAMING: 1,
  /** Complete on the wire. */
  DONE: 2,
  /** The connection is gone or was cut before the response completed. */
  ABORTED: 3,
} as const;
export type ResponseState = (typeof ResponseState)[keyof typeof ResponseState];

/** Byte bodies from this size on are written beside their head rather than copied behind it. */
const SEPARATE_BODY = 2048;
/** Body bytes held for a reader before the socket stops being read. */
const BODY_HIGH_WATER = 64 * 1024;
/** A request body left unread by the app is read and discarded up to this size; beyond it the connection closes. */
const DRAIN_LIMIT = 256 * 1024;

export class Exchange {
  response: ResponseState = ResponseState.PENDING;
  /** Decided when the response head is written: whether the connection persists. */
  keepAlive: boolean;
  /** Body bytes still to go for a stream whose length the app declared (-1: not declared). */
  private remaining = -1;
  private framing: Framing = Framing.NONE;
  private continueSent = false;
  private abortListeners: Array<() => void> | null = null;
  /** The client went away before the response was complete (see onAbort). */
  clientGone = false;

  // The request body: chunks waiting for the reader, and a reader waiting for chunks.
  private queue: Buffer[] | null = null;
  private queued = 0;
  private bodyDone: boolean;
  private bodyError: Error | null = null;
  private waiting: { resolve: (chunk: Buffer | null) => void; reject: (error: Error) => void } | null = null;
  private discarded = 0;
  private discarding = false;
  /** More unread body than DRAIN_LIMIT arrived before the response was done: reading waits for it. */
  private overflowing = false;

  constructor(
    readonly connection: Connection,
    readonly head: RequestHead,
    keepAlive: boolean,
  ) {
    this.keepAlive = keepAlive;
    this.bodyDone = !head.hasBody;
  }

  /** The request line, for logs. */
  get requestLine(): string {
    return `${this.head.method} ${this.head.target} HTTP/1.${this.head.minor}`;
  }

  get bodyComplete(): boolean {
    return this.bodyDone;
  }

  /** True while the body is not read and holds more than the high-water mark. */
  get bodyBacklogged(): boolean {
    return this.queued > BODY_HIGH_WATER || this.overflowing;
  }

  // ---- request body --------------------------------------------------------

  /** The next body chunk, or null at the end. The first call sends `100 Continue` if the client asked for it. */
  readBody(): Promise<Buffer | null> {
    this.sendContinue();
    if (this.queue !== null && this.queue.length > 0) {
      const chunk = this.queue.shift()!;
      this.queued -= chunk.length;
      this.connection.updateFlow();
      return Promise.resolve(chunk);
    }
    if (this.bodyError !== null) return Promise.reject(this.bodyError);
    if (this.bodyDone) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.connection.awaitClient(true);
    });
  }

  /** The whole body, as one buffer. */
  readWholeBody(): Promise<Buffer> {
    if (this.bodyDone && this.bodyError === null) {
      // All of it is here already (a small body comes with its head): no waiting.
      const chunks = this.queue ?? [];
      this.queue = null;
      this.queued = 0;
      return Promise.resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    }
    return this.gatherBody();
  }

  private async gatherBody(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let total = 0;
    for (let chunk = await this.readBody(); chunk !== null; chunk = await this.readBody()) {
      chunks.push(chunk);
      total += chunk.length;
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  }

  /** The app will not read the body: what arrives is discarded (up to a limit). */
  discardBody(): void {
    if (this.discarding) return;
    this.discarding = true;
    this.discarded += this.queued;
    this.queue = null;
    this.queued = 0;
    this.connection.updateFlow();
  }

  /** From the connection: request body bytes. */
  pushBody(chunk: Buffer): void {
    if (this.discarding) {
      this.discarded += chunk.length;
      if (this.discarded > DRAIN_LIMIT && !this.overflowing) this.tooMuchToDiscard();
      return;
    }
    if (this.answerReader(chunk, null)) return;
    (this.queue ??= []).push(chunk);
    this.queued += chunk.length;
    if (this.queued > BODY_HIGH_WATER) this.connection.updateFlow();
  }

  /**
   * The connection will not be reused. Cutting it now would lose a response
   * still to come, or one not yet read by the client (a close with unread
   * bytes is a reset): once the response is out it closes gracefully (a
   * lingering close drops the rest); until then reading waits.
   */
  private tooMuchToDiscard(): void {
    this.keepAlive = false;
    if (this.response === ResponseState.DONE) {
      this.connection.closeGracefully();
    } else {
      this.overflowing = true;
      this.connection.updateFlow();
    }
  }

  /** From the connection: the body is complete. */
  endBody(): void {
    this.bodyDone = true;
    this.answerReader(null, null);
  }

  /** From the connection: the body cannot be completed (bad framing, client gone). */
  failBody(cause: Error): void {
    if (this.bodyDone) return;
    const error = cause instanceof RequestBodyError ? cause : new RequestBodyError(cause.message, { cause });
    this.bodyError = error;
    this.answerReader(null, error);
  }

  /** Gives a reader waiting in readBody() its chunk (null: the end) or the error; false if none waits. */
  private answerReader(chunk: Buffer | null, error: Error | null): boolean {
    const waiting = this.waiting;
    if (waiting === null) return false;
    this.waiting = null;
    this.connection.awaitClient(false);
    if (error === null) waiting.resolve(chunk);
    else waiting.reject(error);
    return true;
  }

  private sendContinue(): void {
    if (!this.head.expectContinue || this.continueSent || this.response !== ResponseState.PENDING || this.bodyDone) return;
    this.continueSent = true;
    this.connection.write(CONTINUE);
  }

  // ---- response ------------------------------------------------------------

  /** Sends a 1xx interim response (not to HTTP/1.0 clients, which do not know them). */
  informational(status: number, fields: HeaderFields): void {
    if (this.response !== ResponseState.PENDING || this.head.minor === 0) return;
    if (status === 100) this.continueSent = true;
    this.connection.write(informationalHead(status, fields));
  }

  /**
   * A whole response: head and body in one write. `fieldsValid`: the fields
   * are a FastHeaders list, already checked (see fieldBlock()).
   */
  respond(status: number, fields: HeaderFields, body: Uint8Array | string | null, fieldsValid = false): void {
    if (this.response !== ResponseState.PENDING) return;
    const length = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    const bodiless = isBodiless(this.head.method, status);
    const head = this.buildHead(status, fields, fieldsValid, bodiless ? Framing.NONE : Framing.LENGTH, length);
    this.response = ResponseState.DONE;
    if (bodiless || body === null || typeof body === 'string' || length < SEPARATE_BODY) {
      this.connection.write(headAndBody(head, bodiless ? null : body, length));
    } else {
      // A larger byte body is not copied behind the head: both go out in one writev.
      this.connection.write(head, body);
    }
    this.connection.responseDone(this);
  }

  /**
   * Starts a streamed response. `declaredLength` is the app's own Content-Length
   * (-1 if none): the stream must then produce exactly that many bytes.
   */
  beginStream(status: number, fields: HeaderFields, fieldsValid: boolean, declaredLength: number, first: Uint8Array | null): boolean {
    if (this.response !== ResponseState.PENDING) return false;
    let framing: Framing;
    if (isBodiless(this.head.method, status)) framing = Framing.NONE;
    else if (declaredLength >= 0) framing = Framing.LENGTH;
    else if (this.head.minor === 1) framing = Framing.CHUNKED;
    else framing = Framing.CLOSE;
    this.framing = framing;
    this.remaining = declaredLength;
    const head = this.buildHead(status, fields, fieldsValid, framing, declaredLength);
    this.response = ResponseState.STREAMING;
    if (first === null || framing === Framing.NONE) return this.connection.write(head);
    this.connection.write(head);
    return this.writeChunk(first);
  }

  /** Writes body bytes of a streamed response. False: wait for drained() before writing more. */
  writeChunk(data: Uint8Array): boolean {
    if (this.response !== ResponseState.STREAMING || data.byteLength === 0) return this.response === ResponseState.STREAMING;
    switch (this.framing) {
      case Framing.NONE:
        return true;
      case Framing.LENGTH:
        if (data.byteLength > this.remaining) {
          this.abort(new Error(`the body is longer than its Content-Length ${this.remaining} says`));
          return false;
        }
        this.remaining -= data.byteLength;
        return this.connection.write(data);
      case Framing.CHUNKED:
        return this.connection.write(chunkFrame(data));
      default:
        return this.connection.write(data);
    }
  }

  /** Resolves when the socket can take more (or the response was aborted). */
  drained(): Promise<void> {
    return this.connection.drained();
  }

  /** Ends a streamed response. */
  endStream(): void {
    if (this.response !== ResponseState.STREAMING) return;
    if (this.framing === Framing.LENGTH && this.remaining > 0) {
      this.abort(new Error(`the body ended ${this.remaining} bytes short of its Content-Length`));
      return;
    }
    if (this.framing === Framing.CHUNKED) this.connection.write(LAST_CHUNK);
    this.response = ResponseState.DONE;
    this.connection.responseDone(this);
  }

  /** A plain-text error response (nothing sent yet), e.g. 500 for a failed app. */
  respondError(status: number, close: boolean): void {
    if (close) this.keepAlive = false;
    this.respond(status, ERROR_FIELDS, errorBody(status));
  }

  /** Cuts the connection: the client sees an incomplete response. */
  abort(reason?: Error): void {
    void reason;
    if (this.response === ResponseState.DONE || this.response === ResponseState.ABORTED) return;
    this.response = ResponseState.ABORTED;
    this.connection.closeNow();
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
    if (this.response !== ResponseState.DONE) this.goneBeforeDone();
  }

  /** From the connection: the socket closed. */
  connectionClosed(): void {
    if (!this.bodyDone) this.failBody(new Error('the client closed the connection'));
    if (this.response === ResponseState.DONE) return;
    this.response = ResponseState.ABORTED;
    this.goneBeforeDone();
  }

  private goneBeforeDone(): void {
    if (this.clientGone) return;
    this.clientGone = true;
    const listeners = this.abortListeners;
    this.abortListeners = null;
    if (listeners !== null) for (const listener of listeners) listener();
  }

  private buildHead(status: number, fields: HeaderFields, fieldsValid: boolean, framing: Framing, length: number): string {
    const connection = this.connection;
    let keepAlive = this.keepAlive && connection.mayKeepAlive();
    if (framing === Framing.CLOSE) keepAlive = false;
    // A body the client has not sent yet because it waits for 100 Continue:
    // the next bytes could be either that body or a new request, so close.
    if (!this.bodyDone && this.head.expectContinue && !this.continueSent) keepAlive = false;
    if (!this.bodyDone && this.head.contentLength > DRAIN_LIMIT) keepAlive = false;
    const block = fieldBlock(fields, fieldsValid);
    if (block.closes) keepAlive = false;
    this.keepAlive = keepAlive;
    return responseHead({
      status,
      block,
      framing,
      length: framing === Framing.NONE ? (this.head.method === 'HEAD' ? length : -1) : length,
      close: !keepAlive,
      keepAliveHeader: keepAlive && this.head.minor === 0,
      serverSoftware: connection.server.serverSoftware,
    });
  }
}

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
