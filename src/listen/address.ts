// What to listen on: `--listen` specs, `--socket`, or `--host`/`--port`,
// parsed into ListenSpecs. Pure: binding is bind.ts's job.

import { isIP } from 'node:net';

export type ListenSpec =
  | { kind: 'tcp'; host: string | undefined; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'fd'; fd: number };

export class ListenSpecError extends Error {
  readonly exitCode = 2;
}

function parsePort(text: string, spec: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) {
    throw new ListenSpecError(`--listen ${spec}: the port must be an integer from 0 to 65535`);
  }
  return Number(text);
}

/** One `--listen` value: HOST:PORT, :PORT, [IPV6]:PORT, unix:PATH, a path with '/', @NAME, fd://N. */
export function parseListenSpec(spec: string): ListenSpec {
  if (spec.startsWith('unix:')) {
    if (spec.length === 5) throw new ListenSpecError(`--listen ${spec}: unix: needs a path`);
    return { kind: 'unix', path: spec.slice(5) };
  }
  if (spec.startsWith('@') || spec.startsWith('\0')) return { kind: 'unix', path: `\0${spec.slice(1)}` };
  if (spec.startsWith('fd://')) {
    const fd = spec.slice(5);
    if (!/^[0-9]+$/.test(fd)) throw new ListenSpecError(`--listen ${spec}: fd:// needs a descriptor number`);
    return { kind: 'fd', fd: Number(fd) };
  }
  const bracketed = /^\[([^\]]+)\]:([^:]*)$/.exec(spec);
  if (bracketed !== null) {
    if (isIP(bracketed[1]!) !== 6) throw new ListenSpecError(`--listen ${spec}: ${bracketed[1]} is not an IPv6 address`);
    return { kind: 'tcp', host: bracketed[1], port: parsePort(bracketed[2]!, spec) };
  }
  if (spec.includes('/')) return { kind: 'unix', path: spec };
  const colon = spec.lastIndexOf(':');
  if (colon === -1) {
    throw new ListenSpecError(`--listen ${spec}: expected HOST:PORT, :PORT, [IPV6]:PORT, unix:PATH, @NAME or fd://N`);
  }
  const host = spec.slice(0, colon);
  if (host.includes(':')) throw new ListenSpecError(`--listen ${spec}: write IPv6 addresses in brackets, [${host}]:PORT`);
  return { kind: 'tcp', host: host === '' ? undefined : host, port: parsePort(spec.slice(colon + 1), spec) };
}

/** The listeners of a run: every --listen and --socket, or else --host/--port. */
export function listenSpecs(options: { listen: readonly string[]; socket: string | undefined; host: string | undefined; port: number }): ListenSpec[] {
  const specs = options.listen.map(parseListenSpec);
  if (options.socket !== undefined) specs.push(parseListenSpec(options.socket.includes('/') || options.socket.startsWith('@') ? options.socket : `unix:${options.socket}`));
  if (specs.length === 0) specs.push({ kind: 'tcp', host: options.host, port: options.port });
  return specs;
}
