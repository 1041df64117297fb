// The grammar of a listen spec (`--listen`, SPEC §1.3): one table of its forms that the option's
// value kind (a spec that is not one is refused when the options are read, as a usage error),
// --help and the binder's parsing (listen/address.ts) all read.
import { isIP } from 'node:net';
import type { ValueType } from './values.js';

export type ListenSpec =
  | { kind: 'tcp'; host: string | undefined; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'fd'; fd: number };

type Kind = ListenSpec['kind'];

/** Each kind of listener's forms, in the order help lists them. */
const FORMS: { readonly [K in Kind]: readonly string[] } = {
  tcp: ['HOST:PORT', ':PORT', '[IPV6]:PORT'],
  unix: ['unix:PATH', 'a path with /', '@NAME (a Linux abstract socket)'],
  fd: ['fd://N (an inherited descriptor)'],
};

const ALL_FORMS = Object.values(FORMS).flat();

/** "A, B or C" */
const either = (words: readonly string[]): string =>
  words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;

/** The forms --help and the docs list. */
export function listenFormsHelp(): string {
  return either(ALL_FORMS);
}

/** A spec that is not one: exit 2, as for a bad option value. */
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
    return spec[5] === '@' ? { kind: 'unix', path: `\0${spec.slice(6)}` } : { kind: 'unix', path: spec.slice(5) };
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
  if (colon === -1) throw bad(`expected ${either(ALL_FORMS)}`);
  const host = spec.slice(0, colon);
  if (host.includes(':')) throw bad(`write IPv6 addresses in brackets, [${host}]:PORT`);
  return { kind: 'tcp', host: host === '' ? undefined : host, port: parsePort(spec.slice(colon + 1), spec) };
}

/** Why `text` is not a listen spec, or undefined if it is one. */
function refusal(text: string): string | undefined {
  try {
    parseListenSpec(text);
    return undefined;
  } catch (error) {
    if (error instanceof ListenSpecError) return error.message;
    throw error;
  }
}

/** The value kind of --listen: repeatable, each item a listen spec. */
export function listenSpec(): ValueType<string[]> {
  return {
    expected: `a listen spec: ${either(ALL_FORMS)}`,
    flag: false,
    repeatable: true,
    parse: (text) => (text !== '' && refusal(text) === undefined ? [text] : undefined),
    refusal,
    format: (value) => value.join(','),
  };
}
