// The request's Headers, read straight from the parsed head: building a
// Headers costs a checked append per field, and most apps only get() one or
// two. get() and has() look the name up in the head's text; anything else
// (iteration, getSetCookie(), changes) builds a full Headers once and works on
// it from then on. `instanceof Headers` holds.

import type { RequestHead } from '../../http/parser.js';
import { FastHeaders, checkedName } from './fast-headers.js';
import { passForPlatform } from './platform.js';

let fullHeaders: (headers: RequestHeaders) => Headers;

export class RequestHeaders {
  readonly #head: RequestHead;
  #full: Headers | null = null;

  constructor(head: RequestHead) {
    this.#head = head;
  }

  static {
    fullHeaders = (headers) => headers.#materialize();
  }

  #materialize(): Headers {
    if (this.#full === null) {
      const head = this.#head;
      const headers = new FastHeaders();
      for (let i = 0; i < head.fieldCount; i++) headers.append(head.name(i), head.value(i));
      this.#full = headers as unknown as Headers;
    }
    return this.#full;
  }

  get(name: string): string | null {
    if (this.#full !== null) return this.#full.get(name);
    return this.#head.get(checkedName(name, 'get'));
  }

  has(name: string): boolean {
    if (this.#full !== null) return this.#full.has(name);
    return this.#head.get(checkedName(name, 'has')) !== null;
  }
}

// A RequestHeaders is a Headers; whatever it does not implement (iteration,
// getSetCookie(), set/append/delete...) acts on the full Headers.
passForPlatform('Headers', RequestHeaders, fullHeaders, { isGlobal: false });
