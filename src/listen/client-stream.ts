// What the HTTP engine needs of an accepted connection's byte stream, and
// that stream on a node:net socket (SocketStream): a TLS socket once its
// handshake is done, or a socket whose PROXY header was read. A plain
// connection is driven on its libuv handle instead (handle-stream.ts), and is
// a SocketStream only where Node gives no way to drive the handle.

import type { Socket } from 'node:net';

/** What a stream tells its reader, in this order: data, then end (the client's FIN), and close once, last; drain between. */
export interface StreamEvents {
  /** Bytes read, lent: valid only until this returns. */
  onData(chunk: Buffer): void;
  /** The client half-closed: nothing more will be read. */
  onEnd(): void;
  /** What was written has gone out, after a write that said to wait (see needsDrain). */
  onDrain(): void;
  /** The connection is closed (from either end). */
  onClose(): void;
}

/** An accepted connection's bytes, both ways. */
export interface ClientStream {
  /** Begins reading, into `events`; called once, first. */
  start(events: StreamEvents): void;
  /** Strings are latin1. False: the written bytes wait unsent beyond the high-water mark; wait for onDrain(). */
  write(data: Uint8Array | string): boolean;
  /** Several pieces, in one system call where the stream can. */
  writev(pieces: ReadonlyArray<Uint8Array | string>): boolean;
  /** A write said to wait for onDrain(), which has not come yet. */
  readonly needsDrain: boolean;
  /** Stops and starts reading. */
  pause(): void;
  resume(): void;
  /** Our side's FIN after what was written; reading goes on. */
  end(): void;
  /** Closes the connection now; onClose() follows. */
  destroy(): void;
  /**
   * Leaves the connection to another protocol (an upgrade): no event but onClose() from now on,
   * which still comes, and no call but destroy(), which destroys the socket returned: the
   * node:net socket its new owner reads, read but held until it listens for data, as node:http
   * leaves an upgraded socket. Writes before it come first.
   */
  handOver(): Socket;
  /** The connection's two ends. */
  readonly ends: Endpoints;
}

/** A connection's two ends, each read when asked (undefined where there is none to say, as on a UNIX socket); a net.Socket is one. */
export interface Endpoints {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly remoteFamily?: string | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

const EVENTS = Symbol('events');
type SocketWithEvents = Socket & { [EVENTS]: StreamEvents };
// Shared listeners that find the reader on the socket: nothing allocated per connection for them.
function onSocketData(this: SocketWithEvents, chunk: Buffer): void {
  this[EVENTS].onData(chunk);
}
function onSocketEnd(this: SocketWithEvents): void {
  this[EVENTS].onEnd();
}
function onSocketDrain(this: SocketWithEvents): void {
  this[EVENTS].onDrain();
}
function onSocketClose(this: SocketWithEvents): void {
  this[EVENTS].onClose();
}
const ignore = () => {};

/** A node:net socket (TLS, or after a PROXY header) as a ClientStream: half-open allowed, no Nagle delay. */
export class SocketStream implements ClientStream {
  constructor(readonly socket: Socket) {}

  start(events: StreamEvents): void {
    const socket = this.socket;
    (socket as SocketWithEvents)[EVENTS] = events;
    socket.setNoDelay(true);
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('drain', onSocketDrain);
    socket.on('error', ignore);
    socket.on('close', onSocketClose);
  }

  write(data: Uint8Array | string): boolean {
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  writev(pieces: ReadonlyArray<Uint8Array | string>): boolean {
    this.socket.cork();
    let writable = true;
    for (const piece of pieces) writable = this.write(piece);
    this.socket.uncork();
    return writable;
  }

  get needsDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  handOver(): Socket {
    const socket = this.socket;
    socket.off('data', onSocketData);
    socket.off('end', onSocketEnd);
    socket.off('drain', onSocketDrain);
    if (socket.isPaused()) socket.resume();
    (socket as { readableFlowing: boolean | null }).readableFlowing = null;
    return socket;
  }

  get ends(): Endpoints {
    return this.socket;
  }
}
