// A lighter Response for the worker's global scope. Building the platform's
// Response and reading its body back through a stream costs microseconds per
// request; most apps only construct one and return it. FastResponse keeps what
// it was given (status, header fields, a string or bytes) so that the server
// can write it directly, and builds the real Response only when the app uses
// something beyond that (its body stream, clone(), text(), ...).
//
// It is interchangeable with the platform's class both ways: a FastResponse is
// `instanceof` the native Response (its prototype chains to the native one),
// and a native Response is `instanceof` FastResponse (Symbol.hasInstance), so
// code holding either class accepts either kind of object. Every member of
// the native prototype that is not implemented here delegates to the real
// Response, so nothing is missing. The platform's classes are loaded only
// when something needs them (platform.ts). `--no-fast-fetch` leaves the
// global alone.

import type { HeaderFields } from '../../http/response.js';
import { FastHeaders, fastHeaderFields, fieldsOf } from './fast-headers.js';
import { isPlatformInstance, passForPlatform, platformClass } from './platform.js';

const TEXT_PLAIN = 'text/plain;charset=UTF-8';
const FORM_URLENCODED = 'application/x-www-form-urlencoded;charset=UTF-8';
const APPLICATION_JSON = 'application/json';

/** Statuses whose responses have no body (Fetch "null body status"). */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** What the server writes for a FastResponse that is still in its light form. */
export interface ResponseParts {
  status: number;
  /** A FastHeaders list (or one made by the same checks): lower-case token names, values without CR, LF, NUL or a character beyond one byte; the writer need not check them again. */
  fields: HeaderFields;
  body: string | Uint8Array | null;
}

type Field = readonly [string, string];

function hasField(fields: readonly Field[], lowerName: string): boolean {
  for (const [name] of fields) if (name === lowerName) return true;
  return false;
}

/** Copies of small bodies are carved from a shared slab, as Buffer.allocUnsafe does for its pool. */
const SLAB_SIZE = 64 * 1024;
let slab: Buffer | null = null;
let slabUsed = 0;

/**
 * A copy of the bytes of a BufferSource (the Fetch standard copies them when
 * the Response is made). Making an ArrayBuffer costs far more than copying a
 * few KiB, so small copies share a slab; nothing but the server sees them.
 */
function copyBytes(source: ArrayBuffer | ArrayBufferView): Uint8Array {
  const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  const length = bytes.byteLength;
  if (length > SLAB_SIZE / 8) return new Uint8Array(bytes);
  if (slab === null || slabUsed + length > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabUsed = 0;
  }
  const copy = slab.subarray(slabUsed, slabUsed + length);
  copy.set(bytes);
  slabUsed += (length + 7) & ~7;
  return copy;
}

// Set in the class's static block, which alone can read its private fields.
/** The parts of a FastResponse still in its light form, or null. */
let lightParts: (response: object) => ResponseParts | null;
/** The real Response behind a FastResponse (built on first need). */
let realResponse: (response: FastResponse) => Response;

/** The field list of a response whose only field is the Content-Type its body implies: one frozen list each, shared (the writer caches its lines). */
const NO_FIELDS: readonly Field[] = Object.freeze([]);
const DEFAULT_FIELDS = new Map<string, readonly Field[]>(
  [TEXT_PLAIN, FORM_URLENCODED, APPLICATION_JSON].map((type) => [type, Object.freeze([Object.freeze(['content-type', type])]) as readonly Field[]]),
);

export class FastResponse {
  #status = 200;
  #statusText = '';
  #fields: readonly Field[] = NO_FIELDS;
  #body: string | Uint8Array | null = null;
  /** Created on first use of `headers`; from then on the header list of record. */
  #headers: Headers | null = null;
  /** The real Response, once something needs it. */
  #native: Response | null = null;

  constructor(body?: unknown, init?: ResponseInit) {
    let contentType: string | null = null;
    if (body === undefined || body === null) {
      this.#body = null;
    } else if (typeof body === 'string') {
      this.#body = body;
      contentType = TEXT_PLAIN;
    } else if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
      this.#body = copyBytes(body);
    } else if (body instanceof URLSearchParams) {
      this.#body = body.toString();
      contentType = FORM_URLENCODED;
    } else {
      // Streams, Blobs, FormData and the rest: the platform's own Response.
      this.#native = new (platformClass('Response'))(body as ConstructorParameters<typeof Response>[0], init);
      return;
    }
    this.#setUp(init, contentType);
  }

  /** Status, status text and fields from `init`, checked as the standard checks them; `contentType` unless a field sets one. */
  #setUp(init: ResponseInit | undefined, contentType: string | null): void {
    let fields: Field[] | null = null;
    if (init !== undefined && init !== null) {
      if (init.status !== undefined) {
        const status = Math.trunc(Number(init.status));
        if (!(status >= 200 && status <= 599)) throw new RangeError('init["status"] must be in the range of 200 to 599, inclusive.');
        this.#status = status;
      }
      if (init.statusText !== undefined) {
        const statusText = String(init.statusText);
        if (!REASON_PHRASE.test(statusText)) throw new TypeError('Invalid statusText');
        this.#statusText = statusText;
      }
      if (init.headers !== undefined && init.headers !== null) fields = fieldsOf(init.headers);
    }
    if (this.#body !== null && NULL_BODY_STATUS.has(this.#status)) {
      throw new TypeError(`Response constructor: Invalid response status code ${this.#status}`);
    }
    if (fields === null) {
      this.#fields = contentType === null ? NO_FIELDS : DEFAULT_FIELDS.get(contentType)!;
    } else {
      if (contentType !== null && !hasField(fields, 'content-type')) fields.push(['content-type', contentType]);
      this.#fields = fields;
    }
  }

  static {
    lightParts = (response) => {
      if (!(#native in response) || response.#native !== null) return null;
      const headers = response.#headers;
      const fields = headers === null ? response.#fields : (fastHeaderFields(headers) ?? [...headers]);
      return { status: response.#status, fields, body: response.#body };
    };
    realResponse = (response) => response.#materialize();
  }

  /** The real Response: built once, from the light form, when the app needs it. */
  #materialize(): Response {
    if (this.#native === null) {
      this.#native = new (platformClass('Response'))(this.#body, {
        status: this.#status,
        statusText: this.#statusText,
        headers: this.#headers ?? (this.#fields as [string, string][]),
      });
    }
    return this.#native;
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return isPlatformInstance('Response', value);
  }

  static json(data: unknown, init?: ResponseInit): Response {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('Value is not JSON serializable');
    const response = new FastResponse();
    response.#body = text;
    response.#setUp(init, APPLICATION_JSON);
    return response as unknown as Response;
  }

  static error(): Response {
    return platformClass('Response').error();
  }

  static redirect(url: string | URL, status?: number): Response {
    return (platformClass('Response').redirect as (url: string | URL, status?: number) => Response)(url, status);
  }

  get status(): number {
    return this.#native?.status ?? this.#status;
  }
  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status <= 299;
  }
  get statusText(): string {
    return this.#native?.statusText ?? this.#statusText;
  }
  get headers(): Headers {
    if (this.#native !== null) return this.#native.headers;
    return (this.#headers ??= new FastHeaders(this.#fields) as unknown as Headers);
  }
  get type(): Response['type'] {
    return this.#native?.type ?? 'default';
  }
  get url(): string {
    return this.#native?.url ?? '';
  }
  get redirected(): boolean {
    return this.#native?.redirected ?? false;
  }
  get bodyUsed(): boolean {
    return this.#native?.bodyUsed ?? false;
  }
  get body(): ReadableStream<Uint8Array> | null {
    return this.#materialize().body;
  }
  clone(): Response {
    return this.#materialize().clone();
  }
  text(): Promise<string> {
    return this.#materialize().text();
  }
  json(): Promise<unknown> {
    return this.#materialize().json();
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#materialize().arrayBuffer();
  }
  blob(): Promise<Blob> {
    return this.#materialize().blob();
  }
  formData(): Promise<FormData> {
    return this.#materialize().formData();
  }
}

/** The light parts of `response` if it is a FastResponse still in its light form. */
export function responseParts(response: object): ResponseParts | null {
  return lightParts(response);
}

// A FastResponse is a Response: the prototype chain says so (once the platform
// is loaded), and whatever the platform's prototype has that FastResponse does
// not is handed to the real one.
passForPlatform('Response', FastResponse, realResponse, { isGlobal: true });
// Installed as the global, it is `Response` by name too.
Object.defineProperty(FastResponse, 'name', { value: 'Response' });

/** Makes `Response` and `Headers` in this process the light ones (a worker does it before loading the app). */
export function installFastClasses(): void {
  globalThis.Response = FastResponse as unknown as typeof Response;
  globalThis.Headers = FastHeaders as unknown as typeof Headers;
}
