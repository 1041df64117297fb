// The Request the app sees: an absolute URL (scheme, Host or the listener's
// address, the target as received), every header field in the order received,
// a body stream that pulls from the connection (its first read sends
// `100 Continue`), and a signal that aborts only if the client goes away
// before the response is complete.

import { isIPv6 } from 'node:net';
import { Exchange, type ConnectionAddresses } from '../http/exchange.js';
import type { RequestHead } from '../http/parser.js';

/** Methods the platform's Request refuses to represent; they are answered 501. */
export const UNREPRESENTABLE_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** host:port of the connection's local address, for requests without a Host field. */
function localAuthority(addresses: ConnectionAddresses): string {
  const address = addresses.localAddress ?? 'localhost';
  return `${isIPv6(address) ? `[${address}]` : address}:${addresses.localPort}`;
}

export function requestUrl(exchange: Exchange, scheme: string): string {
  const head = exchange.head;
  const target = head.target;
  const first = target.charCodeAt(0);
  if (first !== 0x2f && first !== 0x2a) return target; // absolute-form, as received
  const host = exchange.addresses.forwardedHost ?? head.host;
  const authority = host !== undefined && host !== '' ? host : localAuthority(exchange.addresses);
  // asterisk-form (OPTIONS *) has no path; it is shown as "/*".
  return `${scheme}://${authority}${first === 0x2a ? '/*' : target}`;
}

/** Hosts whose URLs were checked lately (they repeat: one or a few per client). */
const checkedHosts = new Map<string, boolean>();

/** Whether the request's URL can be parsed (a Host with a bad port or escape cannot). */
export function requestUrlIsValid(exchange: Exchange, scheme: string): boolean {
  const head = exchange.head;
  // Origin-form: the target is a path, so the URL stands or falls with the Host.
  if (head.target.charCodeAt(0) !== 0x2f || head.host === undefined || exchange.addresses.forwardedHost !== undefined) return URL.canParse(requestUrl(exchange, scheme));
  let valid = checkedHosts.get(head.host);
  if (valid === undefined) {
    valid = URL.canParse(requestUrl(exchange, scheme));
    if (checkedHosts.size >= 1024) checkedHosts.clear();
    checkedHosts.set(head.host, valid);
  }
  return valid;
}

export function requestHeaders(head: RequestHead): Headers {
  const headers = new Headers();
  for (let i = 0; i < head.fieldCount; i++) headers.append(head.name(i), head.value(i));
  return headers;
}

/** A byte stream of the request body, read from the connection on demand. */
export function requestBody(exchange: Exchange): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        return exchange.body.read().then(
          (chunk) => (chunk === null ? controller.close() : controller.enqueue(chunk)),
          (error: unknown) => controller.error(error),
        );
      },
      cancel() {
        exchange.body.discard();
      },
    },
    { highWaterMark: 0 },
  );
}

/** What a platform Request is made of (see platformRequest()). */
export interface RequestParts {
  method: string;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
}

/** A signal that aborts if the client goes away before the response is complete (at once if it has). */
export function clientGoneSignal(exchange: Exchange): AbortSignal {
  const controller = new AbortController();
  exchange.onAbort(() => controller.abort());
  return controller.signal;
}

/** The slot of a platform Request made here: the exchange whose client it follows, then, once read, its signal. */
const SIGNAL_SOURCE = Symbol('signal source');

type ServedRequest = Request & { [SIGNAL_SOURCE]: Exchange | AbortSignal };

/** The `signal` of every platform Request made here (one getter for all, so that they share their shape). */
function servedSignal(this: ServedRequest): AbortSignal {
  const source = this[SIGNAL_SOURCE];
  return source instanceof Exchange ? (this[SIGNAL_SOURCE] = clientGoneSignal(source)) : source;
}

/**
 * A platform Request (of `RequestClass`) whose `signal` aborts if the
 * exchange's client goes away, read through the request's own accessor
 * rather than given in its init. A Request given a signal follows it through
 * a FinalizationRegistry entry, dropped only when that signal aborts or once
 * a full garbage collection has found the Request dead; our signal never
 * aborts on a normal completion, so under load the entries and what they
 * hold piled up in the old generation between full collections (a worker
 * with --no-fast-fetch grew past 400 MiB in 30 s of plaintext). The signal is
 * made at its first read, unless `source` is the one already made: an
 * AbortController costs a request that never reads it some microseconds. The
 * Request's own signal, which its clone() and a copy made by
 * `new Request(request)` follow, never aborts.
 */
export function platformRequest(RequestClass: typeof Request, url: string, parts: RequestParts, source: Exchange | AbortSignal): Request {
  const init: RequestInit & { duplex?: 'half' } = { method: parts.method, headers: parts.headers, body: parts.body };
  if (parts.body !== null) init.duplex = 'half';
  const request = new RequestClass(url, init) as ServedRequest;
  request[SIGNAL_SOURCE] = source;
  Object.defineProperty(request, 'signal', { get: servedSignal, enumerable: true, configurable: true });
  return request;
}

export function createRequest(exchange: Exchange, scheme: string): Request {
  const head = exchange.head;
  const hasBody = exchange.bodyForApp;
  // A body the app is not given (a GET's or a HEAD's) is read and dropped.
  if (!hasBody) exchange.body.discard();
  const parts = { method: head.method, headers: requestHeaders(head), body: hasBody ? requestBody(exchange) : null };
  return platformRequest(Request, requestUrl(exchange, scheme), parts, exchange);
}
