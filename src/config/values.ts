// The kinds of option values: how each is read from text (the command line, the environment, a
// serve() option or an app export), described in messages and shown in help. One conversion per
// kind, done once: durations are read in seconds and kept in milliseconds, so no other module
// multiplies by 1000.

import { isIP } from 'node:net';

/** One kind of value: how its text is read, described and shown. */
export interface ValueType<T> {
  /** The accepted form, for error messages: "an integer from 0 to 65535". */
  readonly expected: string;
  /** On/off: `--name`, `--no-name` or `--name=0|1`; never takes the next argument. */
  readonly flag: boolean;
  /** On the command line each occurrence adds one item; in the environment, comma-separated. */
  readonly repeatable: boolean;
  /** The value of `text`, or undefined when `text` is not of this kind. */
  parse(text: string): T | undefined;
  /** Why `text` is not of this kind, where the kind can say more than `expected`. */
  refusal?(text: string): string | undefined;
  /** A value as it would be typed (help, docs, messages). */
  format(value: T): string;
}

const DIGITS = /^[0-9]+$/;
const DECIMAL = /^(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)$/;
const INFINITE = /^(?:inf|infinity|unlimited)$/i;
/** The longest delay a Node timer can hold (2^31-1 ms); longer ones fire at once. */
const MAX_SECONDS = 2147483;

function single<T>(
  expected: string,
  parse: (text: string) => T | undefined,
  format: (value: T) => string = String,
): ValueType<T> {
  return { expected, flag: false, repeatable: false, parse, format };
}

function inRange(value: number, min: number, max: number): number | undefined {
  return value >= min && value <= max ? value : undefined;
}

/** A whole number from `min` to `max`. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): ValueType<number> {
  const expected = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  return single(expected, (text) => (DIGITS.test(text) ? inRange(Number(text), min, max) : undefined));
}

/** `N|inf`: a count of at least `min`, or no limit. */
export function count(min: number): ValueType<number> {
  const whole = integer(min);
  return single(
    `${whole.expected}, or inf`,
    (text) => (INFINITE.test(text) ? Infinity : whole.parse(text)),
    (value) => (value === Infinity ? 'inf' : String(value)),
  );
}

/** One of a few integers. */
export function oneOf(...values: number[]): ValueType<number> {
  const expected = `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
  return single(expected, (text) => (DIGITS.test(text) && values.includes(Number(text)) ? Number(text) : undefined));
}

/** A plain decimal number of seconds (`0.5`), not above what a timer can hold; the value is in milliseconds. */
export function seconds(positive = false): ValueType<number> {
  const range = positive ? `greater than 0 and at most ${MAX_SECONDS}` : `from 0 to ${MAX_SECONDS}`;
  return single(
    `a number of seconds ${range} (e.g. 0.5)`,
    (text) => {
      const value = DECIMAL.test(text) ? inRange(Number(text), 0, MAX_SECONDS) : undefined;
      return value === undefined || (positive && value === 0) ? undefined : Math.round(value * 1e6) / 1e3;
    },
    (ms) => String(ms / 1000),
  );
}

/** A size in bytes, with an optional k/m/g suffix (×1024^n); `unlimited` allows inf/unlimited. */
export function bytes(min: number, unlimited = false): ValueType<number> {
  const SIZE = /^([0-9]+)([kmg]?)$/i;
  const expected = `a size in bytes of at least ${min} (e.g. 16384, 64k, 10m)${unlimited ? ', or unlimited' : ''}`;
  return single(
    expected,
    (text) => {
      if (unlimited && INFINITE.test(text)) return Infinity;
      const match = SIZE.exec(text);
      if (match === null) return undefined;
      const value = Number(match[1]) * 1024 ** ['', 'k', 'm', 'g'].indexOf(match[2]!.toLowerCase());
      return Number.isSafeInteger(value) ? inRange(value, min, Infinity) : undefined;
    },
    (value) => (value === Infinity ? 'unlimited' : String(value)),
  );
}

/** A file mode or umask: `660`, `0660` or `0o660`. */
export function octal(): ValueType<number> {
  const OCTAL = /^(?:0o)?([0-7]{1,4})$/i;
  return single(
    'an octal mode from 0 to 7777 (e.g. 660, 0660 or 0o660)',
    (text) => {
      const match = OCTAL.exec(text);
      return match === null ? undefined : parseInt(match[1]!, 8);
    },
    (value) => `0${value.toString(8).padStart(3, '0')}`,
  );
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

/** On/off. */
export function boolean(): ValueType<boolean> {
  return {
    expected: '1 or 0 (also true/false, yes/no, on/off)',
    flag: true,
    repeatable: false,
    parse: (text) => {
      const word = text.toLowerCase();
      return TRUE.includes(word) ? true : FALSE.includes(word) ? false : undefined;
    },
    format: (value) => (value ? 'on' : 'off'),
  };
}

/** Free text; empty only where `empty` says an empty value means something. */
export function text(empty = false): ValueType<string> {
  return single(empty ? 'a string' : 'a non-empty value', (value) => (value === '' && !empty ? undefined : value));
}

/** Repeatable: `-l A -l B` (or `STARLIGHT_LISTEN=A,B`) gives `['A', 'B']`. */
export function repeated(): ValueType<string[]> {
  return {
    expected: 'a non-empty value',
    flag: false,
    repeatable: true,
    parse: (value) => (value === '' ? undefined : [value]),
    format: (value) => value.join(','),
  };
}

/** A comma-separated list in one value: `127.0.0.1,::1`; empty gives an empty list. */
export function list(): ValueType<string[]> {
  return single(
    'a comma-separated list',
    (value) => value.split(',').map((item) => item.trim()).filter((item) => item !== ''),
    (value) => value.join(','),
  );
}

/** The path part of a URL, as a request target begins: `/server-status`. */
export function urlPath(): ValueType<string> {
  const PATH = /^\/[!$&'()*+,;=:@%\-._~0-9A-Za-z/]*$/;
  return single("a URL path beginning with / (e.g. /server-status), without ? or #", (text) => (PATH.test(text) ? text : undefined));
}

/** Whether `text` is an IP address or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
function isAddressOrRange(text: string): boolean {
  const slash = text.indexOf('/');
  const version = isIP(slash === -1 ? text : text.slice(0, slash));
  if (version === 0) return false;
  const prefix = text.slice(slash + 1);
  return slash === -1 || (DIGITS.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

/** A comma-separated list of IP addresses and CIDR ranges: `127.0.0.1,::1,10.0.0.0/8`. */
export function addressRanges(): ValueType<string[]> {
  const items = list();
  return {
    ...items,
    expected: 'a comma-separated list of IP addresses and CIDR ranges (e.g. 127.0.0.1,::1,10.0.0.0/8)',
    parse: (value) => {
      const parsed = items.parse(value);
      return parsed?.every(isAddressOrRange) ? parsed : undefined;
    },
    refusal: (value) => {
      const bad = items.parse(value)?.find((item) => !isAddressOrRange(item));
      return bad === undefined ? undefined : `${JSON.stringify(bad)} is not an IP address or a CIDR range (e.g. 10.0.0.0/8)`;
    },
  };
}
