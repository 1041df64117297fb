// The request body as the app reads it. Bytes arrive from the parser (through
// the connection) and wait here until the app reads them, one chunk at a time
// or whole; while they pile up unread the connection stops reading the socket.
// The first read of a body the client holds back asks for `100 Continue`. A
// body the app leaves unread is discarded as it arrives, up to a limit. Which
// request bodies the app is given at all is said here too (bodyIsForApp).

import { RequestBodyError } from './errors.js';

/** What a body needs of its connection. */
export interface BodyLink {
  /** Unread bytes grew or shrank: reading the socket may pause or resume. */
  updateFlow(): void;
  /** A read waits on the client (true), or no longer does (false): while any waits, --timeout applies. */
  awaitClient(waiting: boolean): void;
  /** The app reads a body the client may hold back until it is told `100 Continue`. */
  continueWanted(): void;
  /** More unread body than DRAIN_LIMIT arrived: the connection is not reused. */
  tooMuchToDiscard(): void;
}

/** Body bytes held for a reader before the socket stops being read. */
const BODY_HIGH_WATER = 64 * 1024;
/** A request body left unread by the app is read and discarded up to this size; beyond it the connection closes. */
export const DRAIN_LIMIT = 256 * 1024;

/**
 * Whether the app is given the body of a request with this method. A GET's or
 * a HEAD's has no meaning (RFC 9110 §9.3.1-2): it is read and dropped before
 * the app sees the request.
 */
export function bodyIsForApp(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

export class RequestBody {
  // Chunks waiting for the reader, and a reader waiting for chunks.
  private queue: Buffer[] | null = null;
  private queued = 0;
  private done: boolean;
  private error: Error | null = null;
  private waiting: { resolve: (chunk: Buffer | null) => void; reject: (error: Error) => void } | null = null;
  private discarded = 0;
  private discarding = false;
  /** More unread body than DRAIN_LIMIT arrived before the response was done: reading waits for it. */
  private overflowing = false;
  /** The client waits for `100 Continue` before it sends the body, and no read has asked for it yet. */
  private holdsBack: boolean;

  /** A body to come (`link` given), or the empty body of a request without one (EMPTY_BODY). */
  constructor(
    private readonly link: BodyLink,
    expectContinue: boolean,
    complete = false,
  ) {
    this.holdsBack = expectContinue;
    this.done = complete;
  }

  /** Every byte of the body has arrived (whether read or not). */
  get complete(): boolean {
    return this.done;
  }

  /** True while the body is not read and holds more than the high-water mark. */
  get backlogged(): boolean {
    return this.queued > BODY_HIGH_WATER || this.overflowing;
  }

  // ---- the app's side -------------------------------------------------------

  /** The next chunk, or null at the end. The first read asks for `100 Continue` if the client waits for it. */
  read(): Promise<Buffer | null> {
    if (this.holdsBack) {
      this.holdsBack = false;
      if (!this.done && this.error === null) this.link.continueWanted();
    }
    if (this.queue !== null && this.queue.length > 0) {
      const chunk = this.queue.shift()!;
      this.queued -= chunk.length;
      this.link.updateFlow();
      return Promise.resolve(chunk);
    }
    if (this.error !== null) return Promise.reject(this.error);
    if (this.done) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.link.awaitClient(true);
    });
  }

  /** The whole body, as one buffer. */
  readWhole(): Promise<Buffer> {
    if (this.done && this.error === null) {
      // All of it is here already (a small body comes with its head): no waiting.
      const chunks = this.queue ?? [];
      this.queue = null;
      this.queued = 0;
      return Promise.resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    }
    return this.gather();
  }

  private async gather(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let total = 0;
    for (let chunk = await this.read(); chunk !== null; chunk = await this.read()) {
      chunks.push(chunk);
      total += chunk.length;
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  }

  /** The app will not read the body: what arrives is discarded (up to a limit). */
  discard(): void {
    // (A complete body with nothing queued has nothing to drop: the empty body stays untouched.)
    if (this.discarding || (this.done && this.queue === null)) return;
    this.discarding = true;
    this.discarded += this.queued;
    this.queue = null;
    this.queued = 0;
    this.link.updateFlow();
  }

  // ---- the connection's side ------------------------------------------------

  /** Body bytes, from the parser. */
  push(chunk: Buffer): void {
    if (this.discarding) {
      this.discarded += chunk.length;
      if (this.discarded > DRAIN_LIMIT && !this.overflowing) {
        // Reading waits until the connection closes, after the response.
        this.overflowing = true;
        this.link.updateFlow();
        this.link.tooMuchToDiscard();
      }
      return;
    }
    if (this.answerReader(chunk, null)) return;
    (this.queue ??= []).push(chunk);
    this.queued += chunk.length;
    if (this.queued > BODY_HIGH_WATER) this.link.updateFlow();
  }

  /** The body is complete. */
  end(): void {
    this.done = true;
    this.answerReader(null, null);
  }

  /** The body cannot be completed (bad framing, client gone). */
  fail(cause: Error): void {
    if (this.done) return;
    const error = cause instanceof RequestBodyError ? cause : new RequestBodyError(cause.message, { cause });
    this.error = error;
    this.answerReader(null, error);
  }

  /** Gives a reader waiting in read() its chunk (null: the end) or the error; false if none waits. */
  private answerReader(chunk: Buffer | null, error: Error | null): boolean {
    const waiting = this.waiting;
    if (waiting === null) return false;
    this.waiting = null;
    this.link.awaitClient(false);
    if (error === null) waiting.resolve(chunk);
    else waiting.reject(error);
    return true;
  }
}

const nothing = () => {};
/**
 * The body of every request without one: complete and empty, so nothing
 * reaches its link, and nothing about it changes (no object per bodiless request).
 */
export const EMPTY_BODY = new RequestBody({ updateFlow: nothing, awaitClient: nothing, continueWanted: nothing, tooMuchToDiscard: nothing }, false, true);
