// A lighter Headers for the worker's global scope. The platform's Headers
// checks each name and value through WebIDL converters and keeps a sorted
// map; an app that builds a few response headers per request pays for that
// every time. FastHeaders keeps the fields in a plain list (lower-case name,
// value), checks them as the standard does, and answers get/set/append and
// iteration (sorted and combined, Set-Cookie kept apart) from it. The server
// reads the list directly when the headers end up in a FastResponse.
//
// It is interchangeable with the platform's class both ways, as FastResponse
// is: `instanceof` holds either way, and it is installed with it
// (--fast-fetch).

import { isUnsafeValue, lowerCaseToken } from '../../http/syntax.js';
import { isPlatformInstance, passForPlatform, platformClass } from './platform.js';

/** Leading and trailing HTTP whitespace, which Headers strips from values. */
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const isHttpWhitespace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

export type Field = readonly [name: string, value: string];

/** A field name given to a Headers method, checked and lower-cased as the standard does. */
export function checkedName(name: unknown, method: string): string {
  const text = typeof name === 'string' ? name : String(name);
  const lower = lowerCaseToken(text);
  if (lower === null) throw new TypeError(`Headers.${method}: "${text}" is an invalid header name.`);
  return lower;
}

function checkedValue(value: unknown, method: string): string {
  let text = typeof value === 'string' ? value : String(value);
  const last = text.length - 1;
  if (last >= 0 && (isHttpWhitespace(text.charCodeAt(0)) || isHttpWhitespace(text.charCodeAt(last)))) text = text.replace(EDGE_WHITESPACE, '');
  if (isUnsafeValue(text)) throw new TypeError(`Headers.${method}: "${text}" is an invalid header value.`);
  return text;
}

/** What a Headers init holds, as checked fields (names lower-cased), in order. */
export function fieldsOf(init: unknown, method = 'append'): Field[] {
  if (init === undefined || init === null) return [];
  const list = fastFields(init);
  if (list !== null) return list.slice();
  const fields: Field[] = [];
  if (typeof init !== 'object' && typeof init !== 'function') {
    throw new TypeError('Headers constructor: Argument 1 could not be converted to one of: sequence<sequence<ByteString>>, record<ByteString, ByteString>.');
  }
  if (Symbol.iterator in (init as object)) {
    for (const pair of init as Iterable<unknown>) {
      const entry = typeof pair === 'object' && pair !== null && Symbol.iterator in pair ? [...(pair as Iterable<unknown>)] : null;
      if (entry === null || entry.length !== 2) {
        throw new TypeError(`Headers constructor: expected name/value pair to be length 2, found ${entry?.length ?? 0}.`);
      }
      fields.push([checkedName(entry[0], method), checkedValue(entry[1], method)]);
    }
  } else {
    for (const name of Object.keys(init as object)) {
      fields.push([checkedName(name, method), checkedValue((init as Record<string, unknown>)[name], method)]);
    }
  }
  return fields;
}

/** The fields of a FastHeaders (its own list: not to be changed), or null. Set in the class's static block. */
let fastFields: (headers: unknown) => readonly Field[] | null;

/** The standard's "sort and combine": by name; values of one name joined by ", ", Set-Cookie ones kept apart. */
function sortedAndCombined(list: readonly Field[]): Field[] {
  const sorted = [...list].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Field[] = [];
  for (const [name, value] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last[0] === name && name !== 'set-cookie') out[out.length - 1] = [name, `${last[1]}, ${value}`];
    else out.push([name, value]);
  }
  return out;
}

/** The iterator Headers gives for entries(), keys() and values(). */
class HeadersIterator<T> implements IterableIterator<T> {
  #index = 0;
  constructor(
    private readonly pairs: Field[],
    private readonly pick: (pair: Field) => T,
  ) {}
  next(): IteratorResult<T> {
    const pair = this.pairs[this.#index++];
    return pair === undefined ? { value: undefined, done: true } : { value: this.pick(pair), done: false };
  }
  [Symbol.iterator](): this {
    return this;
  }
  get [Symbol.toStringTag](): string {
    return 'Headers Iterator';
  }
}

export class FastHeaders {
  /** [lower-case name, value] in the order added; pairs are replaced, never changed. */
  #list: Field[];

  constructor(init?: unknown) {
    this.#list = fieldsOf(init);
  }

  static {
    fastFields = (headers) => (typeof headers === 'object' && headers !== null && #list in headers ? headers.#list : null);
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return isPlatformInstance('Headers', value);
  }

  append(name: string, value: string): void {
    this.#list.push([checkedName(name, 'append'), checkedValue(value, 'append')]);
  }

  delete(name: string): void {
    const lower = checkedName(name, 'delete');
    this.#list = this.#list.filter((field) => field[0] !== lower);
  }

  get(name: string): string | null {
    const lower = checkedName(name, 'get');
    let found: string | null = null;
    for (const [key, value] of this.#list) if (key === lower) found = found === null ? value : `${found}, ${value}`;
    return found;
  }

  getSetCookie(): string[] {
    return this.#list.filter((field) => field[0] === 'set-cookie').map((field) => field[1]);
  }

  has(name: string): boolean {
    const lower = checkedName(name, 'has');
    return this.#list.some((field) => field[0] === lower);
  }

  set(name: string, value: string): void {
    const lower = checkedName(name, 'set');
    const field: Field = [lower, checkedValue(value, 'set')];
    const at = this.#list.findIndex((existing) => existing[0] === lower);
    if (at === -1) {
      this.#list.push(field);
    } else {
      // The first keeps its place with the new value; the others go.
      this.#list = this.#list.filter((existing, index) => index === at || existing[0] !== lower);
      this.#list[at] = field;
    }
  }

  forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void {
    for (const [name, value] of sortedAndCombined(this.#list)) callback.call(thisArg, value, name, this as unknown as Headers);
  }

  entries(): IterableIterator<[string, string]> {
    return new HeadersIterator(sortedAndCombined(this.#list), (pair) => [pair[0], pair[1]]);
  }

  keys(): IterableIterator<string> {
    return new HeadersIterator(sortedAndCombined(this.#list), (pair) => pair[0]);
  }

  values(): IterableIterator<string> {
    return new HeadersIterator(sortedAndCombined(this.#list), (pair) => pair[1]);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object, inspect: (value: unknown, options: object) => string): string {
    return `Headers ${inspect(Object.fromEntries(sortedAndCombined(this.#list)), options)}`;
  }
}

// A FastHeaders is a Headers; anything of the platform's that it does not
// implement acts on a real copy of it.
passForPlatform('Headers', FastHeaders, (headers) => new (platformClass('Headers'))(headers as unknown as Headers), { isGlobal: true });
Object.defineProperty(FastHeaders, 'name', { value: 'Headers' });

/** The fields of `headers` as written, if it is a FastHeaders (no sorting, no combining); else null. */
export function fastHeaderFields(headers: unknown): readonly Field[] | null {
  return fastFields(headers);
}
