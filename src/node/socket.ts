// A Node app's plain connection socket, as node:http is given it: a
// net.Socket with two changes, both in how it ends and writes, not in what.
//
// Writes of one event-loop turn go out together. node:http writes each
// response on its own, and a pipelined response only once the one before it
// has been written: sixteen pipelined requests cost sixteen system calls,
// each about half a request's CPU. Here a small write is held and reported
// written at once, and everything held goes out in one system call in the
// turn's check phase: one write where it is all strings of one encoding (the
// empty write that ends each node:http response dropped), else a writev (a
// write that would hold more than HOLD_LIMIT goes out at once, after what is
// held: the app's backpressure is never hidden for more than that). Ending or
// destroying the socket sends what is held first: a write reported done is on
// its way, as node:net's own are once written. (And TCP_NODELAY waits for the
// second send, as on the Fetch engine's handles.)
//
// Its close lingers. node:http closes a connection after a last response
// with destroySoon(), which tears it down as soon as the response is written:
// any bytes of the client's still unread or yet to come (the rest of a
// refused body, a pipelined request, one sent after `Connection: close`) then
// make the kernel send a reset, which can erase the response before the
// client has read it (RFC 9112 §9.6). Here the close is staged, as in
// starlight's own engine: the socket is ended, late bytes are read and
// dropped, and it is torn down when the client closes its side or, by the
// server's sweep, after LINGER_MS (lingerExpired()). Once our FIN is out, the
// socket lets its handle linger alone (on a HandleStream,
// listen/handle-stream.ts) and closes as a socket at once, so that node:http
// lets go of the connection's parser, request and response then, and the
// client's FIN is not carried through node:stream's end of a stream; the
// connection counts as closed (onceClosed()) when the handle is.

import { Socket } from 'node:net';
import { loopNow } from '../http/clock.js';
import { LINGER_MS } from '../http/limits.js';
import type { ClientHandle } from '../listen/bind.js';
import type { StreamEvents } from '../listen/client-stream.js';
import { handleStream, type HandleStream } from '../listen/handle-stream.js';

/** Held writes past this many bytes (string lengths, near enough) go out at once. */
const HOLD_LIMIT = 16384;

/** A chunk as node:stream gives it to _writev(). */
interface Chunk {
  chunk: Buffer | string;
  encoding: BufferEncoding;
}

/** Chunks that are all strings of one encoding (pipelined responses), as one: a write, not a writev; else null. */
function joinedStrings(chunks: Chunk[]): Chunk | null {
  const encoding = chunks[0]!.encoding;
  let text = '';
  for (const { chunk, encoding: own } of chunks) {
    if (typeof chunk !== 'string' || own !== encoding) return null;
    text += chunk;
  }
  return { chunk: text, encoding };
}

/** The sockets holding writes, sent in this turn's check phase. */
let holding: ServedPlainSocket[] = [];

function sendHeld(): void {
  const sockets = holding;
  holding = [];
  for (const socket of sockets) socket.sendHeld();
}

/** A socket's 'close': the connection is closed too, unless its handle lingers on. */
function socketClosed(this: ServedPlainSocket): void {
  if (!this.lingersOnHandle) this.connectionClosed();
}

/**
 * A handle lingering after its socket closed: what the client still sends is
 * dropped, and its FIN (or a failed read, which HandleStream turns into a
 * close) closes the handle; then the socket's connection is closed.
 */
class HandleLinger implements StreamEvents {
  constructor(
    readonly stream: HandleStream,
    private readonly socket: ServedPlainSocket,
  ) {
    stream.start(this);
  }
  onData(): void {}
  onDrain(): void {}
  onEnd(): void {
    this.stream.destroy();
  }
  onClose(): void {
    this.socket.connectionClosed();
  }
}

/** The net.Socket field this module reads and clears: its handle, when it lets the handle linger alone. */
type HandleOwner = { _handle: ClientHandle | null };

export class ServedPlainSocket extends Socket {
  // Their defaults are the prototype's (below): a socket is given only those it uses, when it
  // uses them, rather than all of them at its construction, where they cost every connection.
  /** When the close stops lingering (ms since the epoch); 0 while it does not linger. */
  declare private lingerDeadline: number;
  /** The handle lingering after this socket closed (see letHandleLinger()). */
  declare private handleLinger: HandleLinger | null;
  declare private closedListener: ((this: ServedPlainSocket) => void) | null;
  declare private held: Chunk[] | null;
  declare private heldBytes: number;
  /** Sends so far, counted to 2 (see send()). */
  declare private sends: number;

  constructor(handle: ClientHandle) {
    super({ handle, allowHalfOpen: true, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
    this.on('close', socketClosed);
  }

  /**
   * Calls `listener` (with the socket as `this`) once the connection is
   * closed: at the socket's 'close', or, when its close lingers on the handle
   * after that, when the handle closes.
   */
  onceClosed(listener: (this: this) => void): void {
    this.closedListener = listener as (this: ServedPlainSocket) => void;
  }

  get lingersOnHandle(): boolean {
    return this.handleLinger !== null;
  }

  override destroySoon(): void {
    if (this.writable) this.end();
    if (this.lingerDeadline !== 0 || this.destroyed) return;
    this.lingerDeadline = loopNow() + LINGER_MS;
    if (this.writableFinished) this.letHandleLinger();
    else this.on('finish', this.letHandleLinger);
  }

  /** Destroying a socket that has closed while its handle lingers closes the handle. */
  override destroy(error?: Error): this {
    if (this.handleLinger !== null) {
      this.handleLinger.stream.destroy();
      return this;
    }
    return super.destroy(error);
  }

  /**
   * At 'finish', our FIN out: the handle lingers alone, and the socket closes
   * without it (net.Socket closes no handle it no longer has). Not if the
   * client's FIN has already been read (the socket is about to close), or
   * where Node gives no stream base (the socket lingers as one).
   */
  letHandleLinger(): void {
    const owner = this as unknown as HandleOwner;
    const handle = owner._handle;
    if (handle === null || this.destroyed || this.readableEnded) return;
    const stream = handleStream(handle);
    if (stream === null) return;
    owner._handle = null;
    this.handleLinger = new HandleLinger(stream, this);
    super.destroy();
  }

  /** Whether the close has lingered past LINGER_MS at `now` (the server's sweep then destroys the socket). */
  lingerExpired(now: number): boolean {
    return this.lingerDeadline !== 0 && now >= this.lingerDeadline;
  }

  /** The connection is closed: the listener is told. */
  connectionClosed(): void {
    this.closedListener?.call(this);
  }

  /**
   * node:http ends the socket again when the client's FIN comes while the
   * close lingers; node:stream would build an error (a stack trace, some
   * 10 µs) only to drop it. A bare end() of an ended socket does nothing.
   */
  override end(...args: unknown[]): this {
    if (args.length === 0 && this.writableEnded) return this;
    return super.end(...(args as Parameters<Socket['end']>));
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hold([{ chunk, encoding }], callback);
  }

  override _writev(chunks: Chunk[], callback: (error?: Error | null) => void): void {
    this.hold(chunks, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sendHeld();
    super._final(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.sendHeld();
    super._destroy(error, callback);
  }

  /** Sends what is held, in one writev; a failure destroys the socket, as a failed write does. */
  sendHeld(): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    this.heldBytes = 0;
    if (held.length > 0) this.send(held, (error) => error && this.destroy(error));
  }

  /**
   * Hands chunks to the handle. TCP_NODELAY is set before a connection's
   * second send, not at its accept: a system call that a connection carrying
   * one response does without (see listen/handle-stream.ts).
   */
  private send(chunks: Chunk[], callback: (error?: Error | null) => void): void {
    if (this.sends < 2 && ++this.sends === 2) this.setNoDelay(true);
    const one = chunks.length === 1 ? chunks[0]! : joinedStrings(chunks);
    if (one !== null) super._write(one.chunk, one.encoding, callback);
    else super._writev!(chunks, callback);
  }

  // (Empty chunks are dropped: node:http ends every response with one, which would turn a
  // response's single write into a writev of two.)
  private hold(chunks: Chunk[], callback: (error?: Error | null) => void): void {
    let bytes = this.heldBytes;
    for (const { chunk } of chunks) bytes += chunk.length;
    if (bytes > HOLD_LIMIT) {
      this.sendHeld();
      return this.send(chunks.filter(({ chunk }) => chunk.length > 0), callback);
    }
    if (this.held === null) {
      this.held = [];
      if (holding.length === 0) setImmediate(sendHeld);
      holding.push(this);
    }
    for (const chunk of chunks) if (chunk.chunk.length > 0) this.held.push(chunk);
    this.heldBytes = bytes;
    callback();
  }
}

Object.assign(ServedPlainSocket.prototype, { lingerDeadline: 0, handleLinger: null, closedListener: null, held: null, heldBytes: 0, sends: 0 });
