// Creating the listening sockets. A socket is bound here but not listened on
// and not polled: whoever serves it (a worker, or this process with
// --workers=0) calls listen() on it and accepts, so the process that binds
// never takes connections it does not serve.

import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { ListenSpec } from '../config/listen.js';

/** A bound, not yet listening, TCP or pipe handle of Node's: opaque to us but for what listening needs. */
export interface ListenHandle {
  readonly fd: number;
  close(): void;
  /** Called by libuv for each accepted connection: a status (0, or an errno) and the connection's handle. */
  onconnection: ((status: number, client?: ClientHandle) => void) | null;
  /** Starts listening; 0 or an errno. */
  listen(backlog: number): number;
}

/** An accepted connection's handle, as libuv gives it to the listening handle. */
export type ClientHandle = object & { close(): void };

export interface BoundListener {
  readonly spec: ListenSpec;
  readonly handle: ListenHandle;
  /** As shown in the banner, e.g. http://127.0.0.1:5000/ */
  readonly url: string;
  readonly address: string;
  readonly port: number;
}

export class BindError extends Error {
  readonly exitCode = 1;
}

type CreateServerHandle = (address: string | null, port: number, addressType: number, fd?: number, flags?: number) => ListenHandle | number;
// net's own helper (used by cluster): binds without listening.
const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle;

function urlHost(address: string): string {
  return net.isIPv6(address) ? `[${address}]` : address;
}

async function bindTcp(spec: { host: string | undefined; port: number }, ipv6: boolean): Promise<BoundListener> {
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
    const handle = createServerHandle(address, spec.port, family);
    if (typeof handle === 'number') {
      lastError = handle;
      if (spec.host === undefined && getSystemErrorName(handle) === 'EAFNOSUPPORT') continue;
      break;
    }
    const bound: { address?: string; port?: number } = {};
    (handle as unknown as { getsockname(out: object): number }).getsockname(bound);
    if (bound.port === undefined) {
      // libuv keeps a failed bind's error (EADDRINUSE) for listen() to report.
      lastError = handle.listen(1);
      handle.close();
      break;
    }
    return {
      spec: { kind: 'tcp', ...spec },
      handle,
      address: bound.address!,
      port: bound.port!,
      url: `http://${urlHost(bound.address!)}:${bound.port}/`,
    };
  }
  const name = getSystemErrorName(lastError);
  const where = `${spec.host === undefined ? '' : urlHost(spec.host)}:${spec.port}`;
  const why = name === 'EADDRINUSE' ? 'the address is in use' : name === 'EACCES' ? 'permission denied' : name;
  throw new BindError(`cannot listen on ${where}: ${why} (${name})`);
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

export async function bindListeners(specs: readonly ListenSpec[], options: { ipv6: boolean }): Promise<BoundListener[]> {
  const bound: BoundListener[] = [];
  try {
    for (const spec of specs) {
      // (the other kinds are refused as usage errors when the options are read: config/listen.ts)
      if (spec.kind !== 'tcp') throw new BindError(`cannot listen on a ${spec.kind} spec: not available yet`);
      bound.push(await bindTcp(spec, options.ipv6));
    }
  } catch (error) {
    for (const listener of bound) listener.handle.close();
    throw error;
  }
  return bound;
}
