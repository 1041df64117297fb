// A Node app's plain connection socket, as node:http is given it: a
// net.Socket with two changes, both in how it ends and writes, not in what.
//
// Writes of one event-loop turn go out together. node:http writes each
// response on its own, and a pipelined response only once the one before it
// has been written: sixteen pipelined requests cost sixteen system calls,
// each about half a request's CPU. Here a small write is held and reported
// written at once, and everything held goes out in one writev in the turn's
// check phase (a write that would hold more than HOLD_LIMIT goes out at once,
// after what is held: the app's backpressure is never hidden for more than
// that). Ending or destroying the socket sends what is held first: a write
// reported done is on its way, as node:net's own are once written.
//
// Its close lingers. node:http closes a connection after a last response
// with destroySoon(), which tears it down as soon as the response is written:
// any bytes of the client's still unread or yet to come (the rest of a
// refused body, a pipelined request, one sent after `Connection: close`) then
// make the kernel send a reset, which can erase the response before the
// client has read it (RFC 9112 §9.6). Here the close is staged, as in
// starlight's own engine: the socket is ended, late bytes are read and
// dropped, and it is torn down when the client closes its side or after
// LINGER_MS.

import { Socket } from 'node:net';
import { LINGER_MS } from '../http/limits.js';
import type { ClientHandle } from '../listen/bind.js';

/** Held writes past this many bytes (string lengths, near enough) go out at once. */
const HOLD_LIMIT = 16384;

/** A chunk as node:stream gives it to _writev(). */
interface Chunk {
  chunk: Buffer | string;
  encoding: BufferEncoding;
}

/** The sockets holding writes, sent in this turn's check phase. */
let holding: ServedPlainSocket[] = [];

function sendHeld(): void {
  const sockets = holding;
  holding = [];
  for (const socket of sockets) socket.sendHeld();
}

export class ServedPlainSocket extends Socket {
  // Their defaults are the prototype's (below): a socket is given only those it uses, when it
  // uses them, rather than all of them at its construction, where they cost every connection.
  declare private lingering: NodeJS.Timeout | null;
  declare private held: Chunk[] | null;
  declare private heldBytes: number;

  constructor(handle: ClientHandle) {
    super({ handle, allowHalfOpen: true, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
  }

  override destroySoon(): void {
    if (this.writable) this.end();
    if (this.lingering !== null || this.destroyed) return;
    this.lingering = setTimeout(() => this.destroy(), LINGER_MS).unref();
    this.once('close', () => clearTimeout(this.lingering!));
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
    super._writev!(held, (error) => error && this.destroy(error));
  }

  private hold(chunks: Chunk[], callback: (error?: Error | null) => void): void {
    let bytes = this.heldBytes;
    for (const { chunk } of chunks) bytes += chunk.length;
    if (bytes > HOLD_LIMIT) {
      this.sendHeld();
      return super._writev!(chunks, callback);
    }
    if (this.held === null) {
      this.held = [];
      if (holding.length === 0) setImmediate(sendHeld);
      holding.push(this);
    }
    for (const chunk of chunks) this.held.push(chunk);
    this.heldBytes = bytes;
    callback();
  }
}

Object.assign(ServedPlainSocket.prototype, { lingering: null, held: null, heldBytes: 0 });
