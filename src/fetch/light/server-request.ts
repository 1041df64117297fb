// The Request the app sees, made lazily: creating the platform's Request
// (with its Headers, URL parsing, AbortSignal and body stream) costs
// microseconds per request, and most apps read two or three of its
// properties. ServerRequest answers those from the parsed head, reads the body
// straight from the connection for text()/json()/arrayBuffer(), creates the
// signal only when asked, and builds the real Request for anything else.
// Its prototype chains to the native Request.prototype (once the platform is
// loaded: platform.ts), so `instanceof Request` holds, and every native member
// not implemented here delegates to the real Request.

import type { Exchange } from '../../http/exchange.js';
import { passForPlatform, platformClass } from './platform.js';
import { RequestHeaders } from './request-headers.js';
import { clientGoneSignal, platformRequest, requestBody, requestUrl } from '../request.js';

const UTF8_BOM = [0xef, 0xbb, 0xbf];

let realRequest: (request: ServerRequest) => Request;

export class ServerRequest {
  readonly #exchange: Exchange;
  readonly #scheme: string;
  #url: string | null = null;
  #headers: Headers | null = null;
  #signal: AbortSignal | null = null;
  /** The body stream once handed out (undefined: not yet; null: the request has no body). */
  #body: ReadableStream<Uint8Array> | null | undefined = undefined;
  #used = false;
  #native: Request | null = null;

  constructor(exchange: Exchange, scheme: string) {
    this.#exchange = exchange;
    this.#scheme = scheme;
  }

  static {
    realRequest = (request) => request.#materialize();
  }

  /** The platform's Request, for what ServerRequest does not answer itself. */
  #materialize(): Request {
    if (this.#native === null) {
      const parts = { method: this.method, headers: this.headers, body: this.#hasBody() ? this.body : null };
      this.#native = platformRequest(platformClass('Request'), this.url, parts, this.#signal ?? this.#exchange);
    }
    return this.#native;
  }

  #hasBody(): boolean {
    return this.#exchange.bodyForApp;
  }

  get method(): string {
    return this.#exchange.head.method;
  }

  get url(): string {
    return (this.#url ??= requestUrl(this.#exchange, this.#scheme));
  }

  get headers(): Headers {
    return (this.#headers ??= new RequestHeaders(this.#exchange.head) as unknown as Headers);
  }

  /** Aborts only if the client goes away before the response is complete. */
  get signal(): AbortSignal {
    return (this.#signal ??= clientGoneSignal(this.#exchange));
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#native !== null) return this.#native.body;
    if (this.#body === undefined) this.#body = this.#hasBody() ? requestBody(this.#exchange) : null;
    return this.#body;
  }

  get bodyUsed(): boolean {
    if (this.#native !== null) return this.#native.bodyUsed;
    return this.#used;
  }

  /** The whole body; what text(), json(), arrayBuffer(), bytes() and blob() are made of. */
  async #bytes(): Promise<Uint8Array> {
    if (this.#native !== null || this.#body !== undefined) {
      // The stream was handed out: read through it, as the platform would.
      return new Uint8Array(await this.#materialize().arrayBuffer());
    }
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    if (!this.#hasBody()) return new Uint8Array(0);
    return this.#exchange.body.readWhole();
  }

  async text(): Promise<string> {
    const bytes = await this.#bytes();
    const bom = bytes[0] === UTF8_BOM[0] && bytes[1] === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2] ? 3 : 0;
    return Buffer.from(bytes.buffer, bytes.byteOffset + bom, bytes.byteLength - bom).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#bytes();
    // Bytes that fill a buffer of their own (a larger body, copied for this
    // request alone) are that buffer: nothing else is in it to hand out.
    if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer as ArrayBuffer;
    // Else a buffer of its own, exactly as long, filled once: slice() would zero it first.
    const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
    copy.set(bytes);
    return copy.buffer as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(await this.arrayBuffer());
  }

  async blob(): Promise<Blob> {
    return new Blob([await this.arrayBuffer()], { type: this.headers.get('content-type') ?? '' });
  }

  formData(): Promise<FormData> {
    return this.#materialize().formData();
  }

  clone(): Request {
    return this.#materialize().clone();
  }
}

// A ServerRequest is a Request: the prototype chain says so, and whatever the
// native prototype has that ServerRequest does not is handed to the real one.
passForPlatform('Request', ServerRequest, realRequest, { isGlobal: false });
// Its constructor is the platform's, found along the chain: `request.constructor === Request`, and new ones are real Requests.
delete (ServerRequest.prototype as { constructor?: unknown }).constructor;
