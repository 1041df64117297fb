// The grammar of a listen spec (`--listen`, SPEC §1.3) and which of its forms this version can
// serve: one table that the option's value kind (a spec is refused when the options are read,
// a form not built yet as a usage error), --help and the binder's parsing (listen/address.ts)
// all read.
import { isIP } from 'node:net';
import { VERSION } from './version.js';
import type { ValueType } from './values.js';

export type ListenSpec =
  | { kind: 'tcp'; host: string | undefined; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'fd'; fd: number };

type Kind = ListenSpec['kind'];

/** Each kind of listener: its forms, in the order help lists them, and whether it is built. */
const KINDS: { readonly [K in Kind]: { readonly name: string; readonly forms: readonly string[]; readonly available: boolean } } = {
  tcp: { name: 'a TCP address', forms: ['HOST:PORT', ':PORT', '[IPV6]:PORT'], available: true },
  unix: { name: 'a UNIX socket', forms: ['unix:PATH', 'a path with /', '@NAME'], available: false },
  fd: { name: 'an inherited descriptor', forms: ['fd://N'], available: false },
};

const formsOf = (available: boolean): string[] =>
  Object.values(KINDS).filter((kind) => kind.available === available).flatMap((kind) => kind.forms);

/** "A, B or C" */
const either = (words: readonly string[]): string =>
  words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;

/** The forms --help and the docs list: those served, then those not available yet. */
export function listenFormsHelp(): string {
  const unavailable = formsOf(false);
  return either(formsOf(true)) + (unavailable.length > 0 ? `; not available yet: ${either(unavailable)}` : '');
}

/** A spec that is not one, or not one of the forms this version serves: exit 2, as for a bad option value. */
export class ListenSpecError extends Error {
  readonly exitCode = 2;
}

function parsePort(text: string, spec: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) {
    throw new ListenSpecError(`${JSON.stringify(spec)}: the port must be an integer from 0 to 65535`);
  }
  return Number(text);
}

/** One listen spec: HOST:PORT, :PORT, [IPV6]:PORT, unix:PATH, a path with '/', @NAME, fd://N. */
export function parseListenSpec(spec: string): ListenSpec {
  const bad = (why: string) => new ListenSpecError(`${JSON.stringify(spec)}: ${why}`);
  if (spec.startsWith('unix:')) {
    if (spec.length === 5) throw bad('unix: needs a path');
    return { kind: 'unix', path: spec.slice(5) };
  }
  if (spec.startsWith('@') || spec.startsWith('\0')) return { kind: 'unix', path: `\0${spec.slice(1)}` };
  if (spec.startsWith('fd://')) {
    const fd = spec.slice(5);
    if (!/^[0-9]+$/.test(fd)) throw bad('fd:// needs a descriptor number');
    return { kind: 'fd', fd: Number(fd) };
  }
  const bracketed = /^\[([^\]]+)\]:([^:]*)$/.exec(spec);
  if (bracketed !== null) {
    if (isIP(bracketed[1]!) !== 6) throw bad(`${bracketed[1]} is not an IPv6 address`);
    return { kind: 'tcp', host: bracketed[1], port: parsePort(bracketed[2]!, spec) };
  }
  if (spec.includes('/')) return { kind: 'unix', path: spec };
  const colon = spec.lastIndexOf(':');
  if (colon === -1) throw bad(`expected ${either(Object.values(KINDS).flatMap((kind) => kind.forms))}`);
  const host = spec.slice(0, colon);
  if (host.includes(':')) throw bad(`write IPv6 addresses in brackets, [${host}]:PORT`);
  return { kind: 'tcp', host: host === '' ? undefined : host, port: parsePort(spec.slice(colon + 1), spec) };
}

/** Why `text` cannot be listened on by this version, or undefined if it can. */
function refusal(text: string): string | undefined {
  try {
    const kind = KINDS[parseListenSpec(text).kind];
    if (kind.available) return undefined;
    return `${JSON.stringify(text)} is ${kind.name}, which is not available yet in starlight ${VERSION} (available: ${either(formsOf(true))})`;
  } catch (error) {
    if (error instanceof ListenSpecError) return error.message;
    throw error;
  }
}

/** The value kind of --listen: repeatable, each item a spec of a form this version serves. */
export function listenSpec(): ValueType<string[]> {
  return {
    expected: `a listen spec: ${either(formsOf(true))}`,
    flag: false,
    repeatable: true,
    parse: (text) => (text !== '' && refusal(text) === undefined ? [text] : undefined),
    refusal,
    format: (value) => value.join(','),
  };
}
