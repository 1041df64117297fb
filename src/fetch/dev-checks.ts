// Checks of what a Fetch app returns, made in development only (-E development;
// production calls none of this and pays nothing): a hint added to the error
// for a value that is not a Response, and a warning, naming the request, for a
// Response whose body is the text a Promise or a plain object turns into when
// given as a body ("[object Promise]": a missing await; "[object Object]": an
// object that wanted Response.json()).
//
// What the platform already refuses is not checked again: a header name or
// value the Headers class rejects, and a body on a 204, 205 or 304 (the
// Response constructor throws), fail in the app and are logged with the
// request like any throw. A Promise of a Promise is no mistake (it resolves to
// its Response), and a body on a response to HEAD is none either: an app may
// answer HEAD as it answers GET, and the server sends the head alone.
import type { Logger } from '../log/logger.js';
import type { ResponseParts } from './light/fast-response.js';

/** Why an app would return `value` instead of a Response, for the error's message. */
export function notResponseHint(value: unknown): string {
  if (value === undefined) return ' (no return in fetch()? its result is undefined)';
  if (typeof value === 'function') return ' (a function: fetch() returned a handler instead of calling it?)';
  if (typeof value === 'object' && value !== null && ('status' in value || 'body' in value || 'headers' in value)) {
    return ' (an object shaped like a response: build one with new Response(body, { status, headers }) or Response.json(value))';
  }
  return '';
}

/** The text of a body made from a value that is not a body, and what it says about the app. */
const SUSPECT_BODIES = new Map([
  ['[object Promise]', 'a Promise was given as the body (a missing await?)'],
  ['[object Object]', 'an object was given as the body (Response.json(value)?)'],
]);
const LONGEST_SUSPECT = Math.max(...[...SUSPECT_BODIES.keys()].map((text) => text.length));

function warnIfSuspect(log: Logger, requestLine: string, text: string): void {
  const meaning = SUSPECT_BODIES.get(text);
  if (meaning !== undefined) log.warn(`${requestLine}: the response body is "${text}": ${meaning}`);
}

/** Warns if the body of a light response (a FastResponse's parts) is a suspect text. */
export function checkLightBody(log: Logger, requestLine: string, parts: ResponseParts): void {
  if (typeof parts.body === 'string' && parts.body.length <= LONGEST_SUSPECT) warnIfSuspect(log, requestLine, parts.body);
}

/**
 * Warns if a Response's body is a suspect text. Only a text/plain body (what a
 * string body gets) is looked at: through a clone, whose first chunk is read
 * and the rest cancelled, so the response itself is sent as it is.
 */
export function checkResponseBody(log: Logger, requestLine: string, response: Response): void {
  if (response.body === null || !response.headers.get('content-type')?.startsWith('text/plain')) return;
  const reader = response.clone().body!.getReader();
  reader.read().then(
    ({ value }) => {
      reader.cancel().catch(() => {});
      if (value instanceof Uint8Array && value.byteLength <= LONGEST_SUSPECT) {
        warnIfSuspect(log, requestLine, Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString());
      }
    },
    () => {},
  );
}
