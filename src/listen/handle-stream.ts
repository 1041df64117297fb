// A plain connection driven on its libuv handle, without a node:net socket.
// A net.Socket is a duplex stream: building one, its two stream states, and
// its writes, end and close through node:stream cost about a fifth of a
// connection's CPU when each connection carries one request (a profile of
// 44 µs per connection: 9 µs in node:net and node:stream's code, more in the
// collection of their objects). The engine needs none of it: it parses from
// a buffer it is lent, writes whole responses, and keeps its own timeouts.
//
// The handle is Node's TCP or pipe wrap, as the listening handle accepts it.
// Its calls are Node's stream base, which node:net drives too and which
// Node offers only through process.binding('stream_wrap') (allowed, not
// documented): reads come to `onread` (the byte count in a shared state
// array, the bytes in the buffer the handle was lent), a write or shutdown
// takes a request object whose `oncomplete` libuv calls when it finishes
// later (a write done at once calls nothing), the handle's `writeQueueSize`
// counts the bytes written and not yet out, and `close(callback)` closes.
// An upgraded connection is given to a net.Socket made on the same handle.
// (A Node app's socket, once node:http is done with it, lingers on a
// HandleStream made on its handle: node/socket.ts.)

import { Socket } from 'node:net';
import { constants } from 'node:os';
import type { ClientHandle } from './bind.js';
import { SocketStream, type ClientStream, type Endpoints, type StreamEvents } from './client-stream.js';

interface Request {
  handle: StreamHandle;
  oncomplete: (status: number) => void;
  /** Kept referenced while a write is in flight. */
  data?: unknown;
  stream?: HandleStream;
}

/** The stream base calls of a TCP or pipe handle that this module uses. */
interface StreamHandle {
  onread: (arrayBuffer: ArrayBuffer | undefined) => void;
  useUserBuffer(buffer: Uint8Array): void;
  readStart(): number;
  readStop(): number;
  writeBuffer(request: Request, data: Uint8Array): number;
  writeLatin1String(request: Request, data: string): number;
  /** `pieces`: chunk, encoding, chunk, encoding… */
  writev(request: Request, pieces: unknown[], allBuffers: boolean): number;
  shutdown(request: Request): number;
  close(callback: () => void): void;
  /** libuv's count of the bytes written and not yet handed to the kernel. */
  readonly writeQueueSize: number;
  setNoDelay?(enable: boolean): number;
  getpeername?(out: AddressOut): number;
  getsockname?(out: AddressOut): number;
  [STREAM]?: HandleStream;
}

interface AddressOut {
  address?: string;
  family?: string;
  port?: number;
}

interface StreamBinding {
  WriteWrap: new () => Request;
  ShutdownWrap: new () => Request;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
}

/** Node warns of process.binding() (DEP0111) only with pending deprecations on; --throw-deprecation makes the warning a crash. */
function pendingDeprecation(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return process.env.NODE_PENDING_DEPRECATION === '1' || flags.includes('--pending-deprecation');
}

/**
 * Node's stream base, or null where this Node does not give it (a later Node may drop
 * process.binding()) or would warn that it is deprecated. Then a plain connection is a net.Socket
 * (plainStream()).
 */
function streamBase(): StreamBinding | null {
  if (pendingDeprecation()) return null;
  try {
    const found = (process as unknown as { binding(name: string): Partial<StreamBinding> }).binding('stream_wrap');
    const complete =
      typeof found.WriteWrap === 'function' &&
      typeof found.ShutdownWrap === 'function' &&
      found.streamBaseState instanceof Int32Array &&
      typeof found.kReadBytesOrError === 'number';
    return complete ? (found as StreamBinding) : null;
  } catch {
    return null;
  }
}

const binding = streamBase();
// (Without a stream base no HandleStream is made, and these are never read.)
const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError } = binding ?? ({} as StreamBinding);

/** libuv's end of stream, as a read's byte count. */
const UV_EOF = -4095;
/** libuv's answer to readStart() on a handle already reading (a socket's, let go to linger here). */
const UV_EALREADY = -constants.errno.EALREADY;
/** Unsent bytes past which a write says to wait for onDrain(), as node:net's sockets do. */
const HIGH_WATER_MARK = 16 * 1024;

const STREAM = Symbol('stream');

/**
 * What every handle reads into: libuv fills it, and the reader is lent the
 * bytes (it copies what it keeps). One buffer for all: each read is handed
 * on before the next begins.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

function onHandleRead(this: StreamHandle): void {
  this[STREAM]!.read(streamBaseState[kReadBytesOrError]!);
}
function afterWrite(this: Request, status: number): void {
  this.stream!.written(status);
}
const afterShutdown = () => {};

/** A stream on an accepted connection's handle; null where this Node gives no stream base. */
export function handleStream(handle: ClientHandle): HandleStream | null {
  return binding === null ? null : new HandleStream(handle);
}

/** A plain (not TLS) connection's stream: on its handle, or a net.Socket made on it where this Node gives no stream base. */
export function plainStream(handle: ClientHandle): ClientStream {
  return handleStream(handle) ?? new SocketStream(new Socket({ handle, allowHalfOpen: true } as unknown as ConstructorParameters<typeof Socket>[0]));
}

export class HandleStream implements ClientStream, Endpoints {
  private readonly handle: StreamHandle;
  private events: StreamEvents | null = null;
  /** A write said to wait: onDrain() is owed once libuv has nothing left to write. */
  private waitingForDrain = false;
  private ended = false;
  /** Closed, or handed over: nothing more is read or written here. */
  private closed = false;
  /** Once handed over: the socket its new owner has, which destroy() destroys. */
  private socket: Socket | null = null;
  private peer: AddressOut | null = null;
  private own: AddressOut | null = null;
  /**
   * Writes so far, counted to 2. Nagle's algorithm (Linux's, Minshall's variant) holds back a
   * small segment only while an earlier small one is unacknowledged, which the first write of
   * a connection never has: TCP_NODELAY, a system call, is set before the second write, and a
   * connection that carries one response never pays for it.
   */
  private writes = 0;

  constructor(handle: ClientHandle) {
    this.handle = handle as unknown as StreamHandle;
  }

  start(events: StreamEvents): void {
    const streamHandle = this.handle;
    this.events = events;
    streamHandle[STREAM] = this;
    streamHandle.onread = onHandleRead;
    streamHandle.useUserBuffer(READ_BUFFER);
    const status = streamHandle.readStart();
    if (status !== 0 && status !== UV_EALREADY) this.destroy();
  }

  /** From the handle: `count` bytes in READ_BUFFER, or libuv's end of stream or error. */
  read(count: number): void {
    const events = this.events;
    if (events === null || this.closed) return;
    if (count > 0) events.onData(READ_BUFFER.subarray(0, count));
    else if (count === UV_EOF) events.onEnd();
    else if (count < 0) this.destroy();
  }

  write(data: Uint8Array | string): boolean {
    if (this.closed) return false;
    const request = this.request(data);
    return this.dispatched(typeof data === 'string' ? this.handle.writeLatin1String(request, data) : this.handle.writeBuffer(request, data));
  }

  writev(pieces: ReadonlyArray<Uint8Array | string>): boolean {
    if (this.closed) return false;
    const chunks: unknown[] = [];
    for (const piece of pieces) chunks.push(piece, 'latin1');
    return this.dispatched(this.handle.writev(this.request(chunks), chunks, false));
  }

  private request(data: unknown): Request {
    if (this.writes < 2 && ++this.writes === 2) this.handle.setNoDelay?.(true);
    const request = new WriteWrap();
    request.handle = this.handle;
    request.oncomplete = afterWrite;
    request.data = data;
    request.stream = this;
    return request;
  }

  /** After a write was handed to libuv: `status` 0, or an errno (the connection is gone: closed). The request, in flight, is kept by the handle. */
  private dispatched(status: number): boolean {
    if (status !== 0) {
      this.destroy();
      return false;
    }
    // (A write done at once left nothing queued.)
    if (this.handle.writeQueueSize < HIGH_WATER_MARK) return true;
    this.waitingForDrain = true;
    return false;
  }

  /** From libuv, for a write it finished later. */
  written(status: number): void {
    if (this.closed) return;
    if (status !== 0) return this.destroy();
    if (this.waitingForDrain && this.handle.writeQueueSize === 0) {
      this.waitingForDrain = false;
      this.events?.onDrain();
    }
  }

  get needsDrain(): boolean {
    return this.waitingForDrain;
  }

  pause(): void {
    if (!this.closed) this.handle.readStop();
  }

  resume(): void {
    if (!this.closed) this.handle.readStart();
  }

  end(): void {
    if (this.ended || this.closed) return;
    this.ended = true;
    const request = new ShutdownWrap();
    request.handle = this.handle;
    request.oncomplete = afterShutdown;
    // (libuv shuts down once the writes before it are out.)
    if (this.handle.shutdown(request) !== 0) this.destroy();
  }

  destroy(): void {
    if (this.socket !== null) return void this.socket.destroy();
    if (this.closed) return;
    this.closed = true;
    this.handle.close(() => {
      const events = this.events;
      this.events = null;
      events?.onClose();
    });
  }

  handOver(): Socket {
    const handle = this.handle;
    handle.readStop();
    delete handle[STREAM];
    const events = this.events!;
    this.events = null;
    this.closed = true;
    this.waitingForDrain = false;
    // The handle reads into READ_BUFFER for good (Node's stream base keeps a lent buffer once
    // given one): the socket is given the same, and copies each read into a buffer of its own.
    const socket: Socket = new Socket({
      handle,
      allowHalfOpen: true,
      onread: { buffer: READ_BUFFER, callback: (count: number) => socket.push(Buffer.from(READ_BUFFER.subarray(0, count))) },
    } as unknown as ConstructorParameters<typeof Socket>[0]);
    socket.once('close', () => events.onClose());
    this.socket = socket;
    return socket;
  }

  get ends(): Endpoints {
    return this;
  }

  get remoteAddress(): string | undefined {
    return this.peerAddress().address;
  }
  get remotePort(): number | undefined {
    return this.peerAddress().port;
  }
  get remoteFamily(): string | undefined {
    return this.peerAddress().family;
  }
  get localAddress(): string | undefined {
    return this.ownAddress().address;
  }
  get localPort(): number | undefined {
    return this.ownAddress().port;
  }

  private peerAddress(): AddressOut {
    return (this.peer ??= this.addressOf(this.handle.getpeername));
  }

  private ownAddress(): AddressOut {
    return (this.own ??= this.addressOf(this.handle.getsockname));
  }

  private addressOf(read: ((out: AddressOut) => number) | undefined): AddressOut {
    const out: AddressOut = {};
    if (read === undefined || this.closed) return out;
    return read.call(this.handle, out) === 0 ? out : {};
  }
}
