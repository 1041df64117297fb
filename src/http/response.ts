// The response to one request, as it goes out: whole in one write, or as a
// stream with backpressure (Content-Length the app declared, chunked coding,
// or until the close for HTTP/1.0), 1xx interim responses before it, and
// whether the connection persists after it. Whatever the app does, the bytes
// on the wire stay well framed: a response that cannot be finished correctly
// is cut, never padded or truncated silently.

import type { RequestHead } from './parser.js';
import { DRAIN_LIMIT, type RequestBody } from './request-body.js';
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
  /** The connection was handed over to another protocol (an upgrade): no response goes out. */
  UPGRADED: 4,
} as const;
export type ResponseState = (typeof ResponseState)[keyof typeof ResponseState];

/** What a response needs of its connection. */
export interface ResponseLink {
  /** The Server header; '' for none. */
  readonly serverSoftware: string;
  /** Writes bytes or latin1 strings; `more` goes out with `data` in one writev. False: wait for drained(). */
  write(data: Uint8Array | string, more?: Uint8Array): boolean;
  /** Resolves once the socket can take more (or the connection is gone). */
  drained(): Promise<void>;
  /** Whether a response whose head is written now may keep the connection open. */
  mayKeepAlive(): boolean;
  /** No request after this one: the connection closes after its response. */
  lastRequest(): void;
  /** The response is complete on the wire. */
  responseDone(response: ResponseWriter): void;
  /** Cuts the connection. */
  closeNow(): void;
}

/** Byte bodies from this size on are written beside their head rather than copied behind it. */
const SEPARATE_BODY = 2048;

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

export class ResponseWriter {
  private current: ResponseState = ResponseState.PENDING;
  /** Decided when the response head is written: whether the connection persists. */
  private persists: boolean;
  /** Body bytes still to go for a stream whose length the app declared (-1: not declared). */
  private remaining = -1;
  private framing: Framing = Framing.NONE;
  private continueSent = false;
  /** The status of the response head once written (0 before), for the access log. */
  status = 0;
  /** Body bytes written (for the access log). */
  bytesSent = 0;
  /** The app's header fields, once the head is written (for the access log). */
  fields: HeaderFields | null = null;

  constructor(
    protected readonly link: ResponseLink,
    readonly head: RequestHead,
    readonly body: RequestBody,
    keepAlive: boolean,
  ) {
    this.persists = keepAlive;
  }

  get state(): ResponseState {
    return this.current;
  }

  /** Whether the connection persists after this response (final once its head is written). */
  get keepAlive(): boolean {
    return this.persists;
  }

  /** Sends `100 Continue`, unless the response has begun or one went out already. */
  sendContinue(): void {
    if (this.continueSent || this.current !== ResponseState.PENDING) return;
    this.continueSent = true;
    this.link.write(CONTINUE);
  }

  /** Sends a 1xx interim response (not to HTTP/1.0 clients, which do not know them). */
  informational(status: number, fields: HeaderFields): void {
    if (this.current !== ResponseState.PENDING || this.head.minor === 0) return;
    if (status === 100) this.continueSent = true;
    this.link.write(informationalHead(status, fields));
  }

  /**
   * A whole response: head and body in one write. `fieldsValid`: the fields
   * are a FastHeaders list, already checked (see fieldBlock()).
   * `declaredLength`: the app's own Content-Length (-1 if none), which a
   * response without a body to a HEAD request says (the GET's length).
   */
  respond(status: number, fields: HeaderFields, body: Uint8Array | string | null, fieldsValid = false, declaredLength = -1): void {
    if (this.current !== ResponseState.PENDING) return;
    const bodiless = isBodiless(this.head.method, status);
    let length = body === null ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    if (body === null && bodiless && declaredLength >= 0) length = declaredLength;
    const head = this.buildHead(status, fields, fieldsValid, bodiless ? Framing.NONE : Framing.LENGTH, length);
    this.current = ResponseState.DONE;
    this.bytesSent = bodiless ? 0 : length;
    if (bodiless || body === null || typeof body === 'string' || length < SEPARATE_BODY) {
      this.link.write(headAndBody(head, bodiless ? null : body, length));
    } else {
      // A larger byte body is not copied behind the head: both go out in one writev.
      this.link.write(head, body);
    }
    this.link.responseDone(this);
  }

  /**
   * Starts a streamed response. `declaredLength` is the app's own Content-Length
   * (-1 if none): the stream must then produce exactly that many bytes.
   */
  beginStream(status: number, fields: HeaderFields, fieldsValid: boolean, declaredLength: number, first: Uint8Array | null): boolean {
    if (this.current !== ResponseState.PENDING) return false;
    let framing: Framing;
    if (isBodiless(this.head.method, status)) framing = Framing.NONE;
    else if (declaredLength >= 0) framing = Framing.LENGTH;
    else if (this.head.minor === 1) framing = Framing.CHUNKED;
    else framing = Framing.CLOSE;
    this.framing = framing;
    this.remaining = declaredLength;
    const head = this.buildHead(status, fields, fieldsValid, framing, declaredLength);
    this.current = ResponseState.STREAMING;
    if (first === null || framing === Framing.NONE) return this.link.write(head);
    this.link.write(head);
    return this.writeChunk(first);
  }

  /** Writes body bytes of a streamed response. False: wait for drained() before writing more. */
  writeChunk(data: Uint8Array): boolean {
    if (this.current !== ResponseState.STREAMING || data.byteLength === 0) return this.current === ResponseState.STREAMING;
    switch (this.framing) {
      case Framing.NONE:
        return true;
      case Framing.LENGTH:
        if (data.byteLength > this.remaining) {
          // Longer than its Content-Length says: the client sees it cut.
          this.abort();
          return false;
        }
        this.remaining -= data.byteLength;
        this.bytesSent += data.byteLength;
        return this.link.write(data);
      case Framing.CHUNKED:
        this.bytesSent += data.byteLength;
        return this.link.write(chunkFrame(data));
      default:
        this.bytesSent += data.byteLength;
        return this.link.write(data);
    }
  }

  /** Resolves when the socket can take more (or the response was aborted). */
  drained(): Promise<void> {
    return this.link.drained();
  }

  /** Ends a streamed response. */
  endStream(): void {
    if (this.current !== ResponseState.STREAMING) return;
    if (this.framing === Framing.LENGTH && this.remaining > 0) {
      // Shorter than its Content-Length says: the client sees it cut.
      this.abort();
      return;
    }
    if (this.framing === Framing.CHUNKED) this.link.write(LAST_CHUNK);
    this.current = ResponseState.DONE;
    this.link.responseDone(this);
  }

  /** A plain-text error response (nothing sent yet), e.g. 500 for a failed app. */
  respondError(status: number, close: boolean): void {
    if (close) this.persists = false;
    this.respond(status, ERROR_FIELDS, errorBody(status));
  }

  /** Cuts the connection: the client sees an incomplete response. */
  abort(): void {
    if (this.current === ResponseState.DONE || this.current === ResponseState.ABORTED || this.current === ResponseState.UPGRADED) return;
    this.current = ResponseState.ABORTED;
    this.link.closeNow();
  }

  /** No further request on this connection: this response closes it (harakiri). */
  closeConnection(): void {
    this.link.lastRequest();
  }

  /** No response will go out: the connection is handed over (an upgrade). */
  protected handedOver(): void {
    this.current = ResponseState.UPGRADED;
  }

  /** The connection is gone: false if the response was complete (or never due), else it is aborted. */
  protected connectionLost(): boolean {
    if (this.current === ResponseState.DONE || this.current === ResponseState.UPGRADED) return false;
    this.current = ResponseState.ABORTED;
    return true;
  }

  private buildHead(status: number, fields: HeaderFields, fieldsValid: boolean, framing: Framing, length: number): string {
    const body = this.body;
    let keepAlive = this.persists && this.link.mayKeepAlive();
    if (framing === Framing.CLOSE) keepAlive = false;
    // A body the client has not sent yet because it waits for 100 Continue:
    // the next bytes could be either that body or a new request, so close.
    if (!body.complete && this.head.expectContinue && !this.continueSent) keepAlive = false;
    if (!body.complete && this.head.contentLength > DRAIN_LIMIT) keepAlive = false;
    const block = fieldBlock(fields, fieldsValid);
    if (block.closes) keepAlive = false;
    this.persists = keepAlive;
    this.status = status;
    this.fields = fields;
    return responseHead({
      status,
      block,
      framing,
      // Of the bodiless responses only one to HEAD says a length: the GET's.
      length: framing === Framing.NONE ? (this.head.method === 'HEAD' ? length : -1) : length,
      close: !keepAlive,
      keepAliveHeader: keepAlive && this.head.minor === 0,
      serverSoftware: this.link.serverSoftware,
    });
  }
}
