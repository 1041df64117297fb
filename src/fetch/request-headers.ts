// The request's Headers, read straight from the parsed head: building the
// platform's Headers costs a validated append per field, and most apps only
// get() one or two. get() and has() look the name up in the head's bytes;
// anything else (iteration, getSetCookie(), changes) builds the real Headers
// once and works on it from then on. `instanceof Headers` holds.

import type { RequestHead } from '../http/parser.js';
import { inheritPlatformMembers } from './delegate.js';

const NativeHeaders: typeof Headers = globalThis.Headers;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

let realHeaders: (headers: RequestHeaders) => Headers;

function checkedName(name: unknown): string {
  const text = String(name);
  if (!TOKEN.test(text)) throw new TypeError(`Headers.get: "${text}" is an invalid header name.`);
  return text.toLowerCase();
}

export class RequestHeaders {
  readonly #head: RequestHead;
  #native: Headers | null = null;

  constructor(head: RequestHead) {
    this.#head = head;
  }

  static {
    realHeaders = (headers) => headers.#materialize();
  }

  #materialize(): Headers {
    if (this.#native === null) {
      const head = this.#head;
      const native = new NativeHeaders();
      for (let i = 0; i < head.fieldCount; i++) native.append(head.name(i), head.value(i));
      this.#native = native;
    }
    return this.#native;
  }

  get(name: string): string | null {
    if (this.#native !== null) return this.#native.get(name);
    return this.#head.get(checkedName(name));
  }

  has(name: string): boolean {
    if (this.#native !== null) return this.#native.has(name);
    return this.#head.get(checkedName(name)) !== null;
  }
}

// A RequestHeaders is a Headers; whatever it does not implement (iteration,
// getSetCookie(), set/append/delete...) acts on the real Headers.
inheritPlatformMembers(RequestHeaders, NativeHeaders, realHeaders);
