// Creating the listening sockets. A socket is bound here but not listened on
// and not polled: whoever serves it (a worker, or this process with
// --workers=0) calls listen() on it and accepts, so the process that binds
// never takes connections it does not serve. A worker can pause its accepting
// for a moment and resume (pauseAccepting()), its copy left open.
//
// A UNIX socket's file belongs to the handle that bound it: libuv removes the
// file when that handle closes, and only then. The handles workers receive
// (and those wrapped from an inherited descriptor) did not bind, so neither a
// worker's exit nor an inherited socket's close removes a file: the process
// that bound it does, when it closes its listeners (the master, at its stop).

import { lstatSync, chmodSync, linkSync, renameSync, unlinkSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import type { ListenSpec } from '../config/listen.js';
import { listenerRefusal } from '../config/platform.js';

/** libuv's answer to a read start on a handle that reads already. */
const UV_EALREADY = -constants.errno.EALREADY;

/** A bound, not yet listening, TCP or pipe handle of Node's: opaque to us but for what listening needs. */
export interface ListenHandle {
  readonly fd: number;
  close(): void;
  /** Called by libuv for each accepted connection: a status (0, or an errno) and the connection's handle. */
  onconnection: ((status: number, client?: ClientHandle) => void) | null;
  /** Starts listening; 0 or an errno. */
  listen(backlog: number): number;
  /** libuv's read start and stop, which on a listening handle start and stop the polling that accepts (see pauseAccepting()). */
  readStart(): number;
  readStop(): number;
}

/** An accepted connection's handle, as libuv gives it to the listening handle. */
export type ClientHandle = object & { close(): void };

export interface BoundListener {
  readonly spec: ListenSpec;
  readonly handle: ListenHandle;
  /** e.g. http://127.0.0.1:5000/, http://unix:/run/app.sock:/ for a UNIX socket, fd://3 for an inherited UNIX socket */
  readonly url: string;
  /** As the banner shows it: the URL, and where an inherited socket came from. */
  readonly shown: string;
  /** The IP address, or a UNIX socket's path (`@NAME` for an abstract one). */
  readonly address: string;
  /** The TCP port; 0 for a UNIX socket. */
  readonly port: number;
  /**
   * Bound with SO_REUSEPORT (--reuse-port): each worker gets a socket of its own on the same
   * address and port (reusePortCopy) instead of this one.
   */
  readonly reusePort: boolean;
}

export class BindError extends Error {
  readonly exitCode = 1;
}

type CreateServerHandle = (address: string | null, port: number, addressType: number, fd?: number, flags?: number) => ListenHandle | number;
// net's own helper (used by cluster): binds without listening.
const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;
/** libuv's bind flag for SO_REUSEPORT (UV_TCP_REUSEPORT; Node 22.12 and 23.1 on pass it down). */
const UV_TCP_REUSEPORT = 2;

function urlHost(address: string): string {
  return net.isIPv6(address) ? `[${address}]` : address;
}

async function bindTcp(spec: { host: string | undefined; port: number }, ipv6: boolean, reusePort: boolean): Promise<BoundListener> {
  const candidates: Array<[string, number]> = [];
  if (spec.host === undefined) {
    // All interfaces: dual-stack :: where IPv6 is available, else 0.0.0.0.
    if (ipv6) candidates.push(['::', 6]);
    candidates.push(['0.0.0.0', 4]);
  } else {
    const family = net.isIP(spec.host);
    if (family === 6 && !ipv6) throw new BindError(`--host ${spec.host} is an IPv6 address, but --ipv6=0 was given`);
    if (family !== 0) candidates.push([spec.host, family]);
    else {
      const found = await lookup(spec.host, { family: ipv6 ? 0 : 4 }).catch((error: Error) => {
        throw new BindError(`cannot resolve --host ${spec.host}: ${error.message}`);
      });
      candidates.push([found.address, found.family]);
    }
  }
  let lastError = 0;
  for (const [address, family] of candidates) {
    const bound = bindTcpHandle(address, spec.port, family, reusePort);
    if (typeof bound === 'number') {
      lastError = bound;
      if (spec.host === undefined && getSystemErrorName(bound) === 'EAFNOSUPPORT') continue;
      break;
    }
    return tcpListener({ kind: 'tcp', ...spec }, bound.handle, bound.address, bound.port, reusePort);
  }
  throw bindFailed(`${spec.host === undefined ? '' : urlHost(spec.host)}:${spec.port}`, lastError);
}

/** A TCP handle bound (not listening) to `address` and `port` (0: any), and where it is bound; or an errno. */
function bindTcpHandle(address: string, port: number, family: number, reusePort: boolean): { handle: ListenHandle; address: string; port: number } | number {
  const handle = createServerHandle(address, port, family, undefined, reusePort ? UV_TCP_REUSEPORT : 0);
  if (typeof handle === 'number') return handle;
  const bound: { address?: string; port?: number } = {};
  (handle as unknown as { getsockname(out: object): number }).getsockname(bound);
  if (bound.port === undefined) {
    // libuv keeps a failed bind's error (EADDRINUSE) for listen() to report.
    const error = handle.listen(1);
    handle.close();
    return error;
  }
  return { handle, address: bound.address!, port: bound.port };
}

/**
 * A worker's own socket for a --reuse-port listener: another SO_REUSEPORT socket bound to the
 * same address and port, which the kernel deals connections to once it listens.
 */
export function reusePortCopy(listener: BoundListener): ListenHandle {
  const bound = bindTcpHandle(listener.address, listener.port, net.isIPv6(listener.address) ? 6 : 4, true);
  if (typeof bound === 'number') throw bindFailed(`${urlHost(listener.address)}:${listener.port} (a worker's own --reuse-port socket)`, bound);
  return bound.handle;
}

/** A failed bind, saying why in words where the errno is a common one. */
function bindFailed(where: string, errno: number): BindError {
  const name = getSystemErrorName(errno);
  const why = name === 'EADDRINUSE' ? 'the address is in use' : name === 'EACCES' ? 'permission denied' : name;
  return new BindError(`cannot listen on ${where}: ${why} (${name})`);
}

function tcpListener(spec: ListenSpec, handle: ListenHandle, address: string, port: number, reusePort: boolean): BoundListener {
  const url = `http://${urlHost(address)}:${port}/`;
  return { spec, handle, address, port, url, shown: url, reusePort };
}

/** A UNIX socket's path as written: `@NAME` for an abstract one (its name begins with a NUL). */
const pathShown = (path: string): string => (path.startsWith('\0') ? `@${path.slice(1)}` : path);

/** A listen spec as the user wrote it, for messages. */
function specShown(spec: ListenSpec): string {
  if (spec.kind === 'unix') return pathShown(spec.path);
  if (spec.kind === 'fd') return `fd://${spec.fd}`;
  return `${spec.host?.includes(':') ? `[${spec.host}]` : (spec.host ?? '')}:${spec.port}`;
}

/** Whether a server accepts connections on the socket file at `path` (ECONNREFUSED: none does). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') resolve(false);
      else reject(new BindError(`cannot listen on ${path}: ${error.code ?? error.message}: cannot tell whether a server still listens there`));
    });
  });
}

/**
 * Clears the way for a socket file at `path`: a socket file left by a server that is gone (no
 * one accepts on it) is removed; a live server's socket, or a file that is not a socket, is an
 * error, and is left as it is.
 */
async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new BindError(`cannot listen on ${path}: ${(error as Error).message}`);
  }
  if (!isSocket) throw new BindError(`cannot listen on ${path}: the file exists and is not a socket (left as it is)`);
  if (await answers(path)) throw new BindError(`cannot listen on ${path}: another server is listening on it`);
  unlinkSync(path);
}

async function bindUnix(path: string, mode: number | undefined): Promise<BoundListener> {
  const abstract = path.startsWith('\0');
  if (!abstract) await clearStaleSocket(path);
  const handle = createServerHandle(path, -1, -1);
  if (typeof handle === 'number') throw bindFailed(pathShown(path), handle);
  if (mode !== undefined && !abstract) {
    try {
      chmodSync(path, mode);
    } catch (error) {
      handle.close();
      throw new BindError(`cannot set --socket-mode on ${path}: ${(error as Error).message}`);
    }
  }
  const url = `http://unix:${pathShown(path)}:/`;
  return { spec: { kind: 'unix', path }, handle, address: pathShown(path), port: 0, url, shown: url, reusePort: false };
}

/**
 * A socket this process inherited (fd://N): TCP or UNIX, as the descriptor says; `name`: the one
 * its process manager gave it, shown beside the descriptor. `reusePort`: it is a TCP socket bound
 * with SO_REUSEPORT and not listening (handed over by a --reuse-port master).
 */
function wrapDescriptor(fd: number, name: string | undefined, reusePort: boolean): BoundListener {
  const handle = createServerHandle(null, 0, 0, fd);
  if (typeof handle === 'number') throw new BindError(`cannot listen on fd://${fd}: it is not an open socket (${getSystemErrorName(handle)})`);
  const spec: ListenSpec = { kind: 'fd', fd };
  const descriptor = name === undefined ? `fd://${fd}` : `fd://${fd} named ${name}`;
  const sockname = (handle as unknown as { getsockname?(out: object): number }).getsockname;
  // (Node's pipe handles do not say their path.)
  if (sockname === undefined) return { spec, handle, address: `fd://${fd}`, port: 0, url: `fd://${fd}`, shown: `${descriptor} (a UNIX socket)`, reusePort: false };
  const bound: { address?: string; port?: number } = {};
  sockname.call(handle, bound);
  const listener = tcpListener(spec, handle, bound.address!, bound.port!, reusePort);
  return { ...listener, shown: `${listener.url} (${descriptor})` };
}

/** A listening socket handed down as descriptor `fd`, for a worker to accept on (a USR2 predecessor's worker's, for --reuse-port). */
export function adoptListening(fd: number): ListenHandle {
  const handle = createServerHandle(null, 0, 0, fd);
  if (typeof handle === 'number') throw new BindError(`cannot take over fd://${fd}: it is not an open socket (${getSystemErrorName(handle)})`);
  return handle;
}

/**
 * Starts listening on a bound handle; each accepted connection's handle goes
 * to `accepted`. A failed accept (the process is out of descriptors, say) is
 * passed over: libuv has already dropped that connection, and the next may
 * succeed. Throws if the handle cannot listen, naming `where` if given.
 */
export function acceptOn(handle: ListenHandle, backlog: number, accepted: (client: ClientHandle) => void, where?: string): void {
  handle.onconnection = (status, client) => {
    if (status === 0 && client !== undefined) accepted(client);
  };
  const status = handle.listen(backlog);
  if (status !== 0) throw new Error(`cannot listen${where === undefined ? '' : ` on ${where}`}: ${getSystemErrorName(status)}`);
}

/**
 * Stops accepting on a listening handle for a while without closing it: what
 * arrives waits in the backlog for the other processes that accept on the
 * same socket, or for resumeAccepting(). Node has no call for it, but libuv
 * accepts from the handle's poll, and its read stop stops that poll (its read
 * start starts it again; the accepting callback stays). The stop acts only on
 * a handle marked as reading, so the start comes first: on a listening handle
 * it only marks it (the poll runs already). A handle opened from a descriptor
 * (every listener a worker receives) can be marked; one this process bound
 * cannot (ENOTCONN: then nothing is paused, and false is returned).
 */
export function pauseAccepting(handle: ListenHandle): boolean {
  const marked = handle.readStart();
  if (marked !== 0 && marked !== UV_EALREADY) return false;
  return handle.readStop() === 0;
}

/** Accepts again on a handle that pauseAccepting() paused. */
export function resumeAccepting(handle: ListenHandle): void {
  handle.readStart();
}

/**
 * Closes a listener that another process serves from now on (USR2's handover). A UNIX socket file
 * this process bound stays where it is: libuv removes it as the handle closes, so it is linked
 * under a second name first and put back, missing from its path only for that instant.
 */
export function closeHandedOver(listener: BoundListener): void {
  const { spec } = listener;
  if (spec.kind !== 'unix' || spec.path.startsWith('\0')) return listener.handle.close();
  const kept = `${spec.path}.${process.pid}.handover`;
  try {
    linkSync(spec.path, kept);
  } catch {
    return listener.handle.close(); // (the file is gone already, or cannot be kept)
  }
  listener.handle.close();
  renameSync(kept, spec.path);
}

/**
 * Binds every spec (or none: the ones bound are closed again if one fails). `socketMode`: the UNIX
 * socket files' permissions. `reusePort`: the TCP specs are bound with SO_REUSEPORT, and so were
 * the inherited descriptors in `reusePortFds` (a --reuse-port master's, handed over by USR2).
 * `fdNames`: the names of inherited descriptors (systemd's LISTEN_FDNAMES), for the banner.
 */
export async function bindListeners(
  specs: readonly ListenSpec[],
  options: { ipv6: boolean; socketMode?: number | undefined; reusePort?: boolean; reusePortFds?: ReadonlySet<number>; fdNames?: ReadonlyMap<number, string> | undefined },
): Promise<BoundListener[]> {
  const bound: BoundListener[] = [];
  const reusePort = options.reusePort === true;
  try {
    for (const spec of specs) {
      const refusal = listenerRefusal(spec, process.platform);
      if (refusal !== null) throw new BindError(`cannot listen on ${specShown(spec)}: ${refusal}`);
      if (spec.kind === 'tcp') bound.push(await bindTcp(spec, options.ipv6, reusePort));
      else if (spec.kind === 'unix') bound.push(await bindUnix(spec.path, options.socketMode));
      else bound.push(wrapDescriptor(spec.fd, options.fdNames?.get(spec.fd), reusePort && options.reusePortFds?.has(spec.fd) === true));
    }
  } catch (error) {
    for (const listener of bound) listener.handle.close();
    throw error;
  }
  return bound;
}
