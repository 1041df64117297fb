// The Fetch-API path of one request: the exchange becomes a Request, the app's
// fetch() is called, and what it returns becomes the response. Whatever goes
// wrong in the app (a throw, a rejection, a value that is not a Response, a
// body stream that fails) is logged once with the request line and answered
// 500 if nothing was sent yet, or the connection is cut if the response had
// begun; the server keeps serving. A request body the client did not send
// whole, which the app failed on, is answered 400 and not logged.
//
// With `fast` (the default, --fast-fetch), the Request is a ServerRequest made
// lazily from the parsed head, and a FastResponse in its light form is written
// without ever building the platform's Response; an app that returns its
// Response at once is answered before fetch()'s caller returns.
//
// On an Upgrade request the app may take the connection instead: the
// response of upgradeWebSocket() opens its WebSocket (websocket.ts), and after
// upgrade() whatever fetch() returns is ignored.

import { RequestBodyError } from '../http/errors.js';
import type { Exchange } from '../http/exchange.js';
import { ResponseState } from '../http/response.js';
import { ERROR_FIELDS, exposedErrorBody } from '../http/writer.js';
import type { Logger } from '../log/logger.js';
import { RequestContext, type ServerHooks } from './context.js';
import { checkLightBody, checkResponseBody, notResponseHint } from './dev-checks.js';
import { responseParts } from './light/fast-response.js';
import { UNREPRESENTABLE_METHODS, createRequest, requestUrlIsValid } from './request.js';
import { sendLightResponse, sendResponse } from './response.js';
import { ServerRequest } from './light/server-request.js';
import { WebSocketUpgrader, type WebSocketOptions } from './websocket.js';

export interface FetchApp {
  fetch(request: Request, context: RequestContext): Response | PromiseLike<Response>;
}

export interface FetchAdapterOptions {
  app: FetchApp;
  hooks: ServerHooks;
  log: Logger;
  /** -E development: error pages carry the stack trace, and what the app returns is checked (dev-checks.ts). */
  development: boolean;
  /** Lazy Request and direct writing of FastResponses (--fast-fetch). */
  fast: boolean;
  websocket: WebSocketOptions;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  return typeof value;
}

export function createFetchHandler(options: FetchAdapterOptions): (exchange: Exchange) => void {
  const { app, hooks, log, development, fast } = options;
  const websockets = new WebSocketUpgrader(options.websocket);

  const fail = (exchange: Exchange, error: unknown) => {
    // Answered by the server (a bad request body) or abandoned by the client: nothing to report.
    if (exchange.state === ResponseState.DONE || exchange.state === ResponseState.ABORTED) return;
    if (exchange.state === ResponseState.UPGRADED) {
      log.error(`${exchange.requestLine}: the app failed after taking the connection`, error);
      return;
    }
    // The request body could not be read (the client sent a bad or short body): not the app's failure.
    const cause = (error as { cause?: unknown } | null | undefined)?.cause;
    if (error instanceof RequestBodyError || cause instanceof RequestBodyError) {
      if (exchange.state === ResponseState.STREAMING) exchange.abort();
      else exchange.respondError(400, true);
      return;
    }
    log.error(`${exchange.requestLine}: the app failed`, error);
    if (exchange.state === ResponseState.STREAMING) {
      exchange.abort();
    } else if (development) {
      exchange.respond(500, ERROR_FIELDS, exposedErrorBody(error));
    } else {
      exchange.respondError(500, false);
    }
  };

  const send = (exchange: Exchange, response: unknown) => {
    if (exchange.head.upgrade && upgraded(exchange, response)) return;
    const light = typeof response === 'object' && response !== null ? responseParts(response) : null;
    if (light !== null) {
      if (development) checkLightBody(log, exchange.requestLine, light);
      try {
        sendLightResponse(exchange, light);
      } catch (error) {
        fail(exchange, error);
      }
      return;
    }
    if (!(response instanceof Response)) {
      const hint = development ? notResponseHint(response) : '';
      fail(exchange, new TypeError(`fetch() returned ${describeValue(response)}, not a Response${hint}`));
      return;
    }
    // Response.error() (status 0) is a network error, not something to send.
    if (response.type === 'error') {
      fail(exchange, new TypeError('fetch() returned Response.error(), which has no status to send'));
      return;
    }
    if (development) checkResponseBody(log, exchange.requestLine, response);
    sendResponse(exchange, response).catch((error: unknown) => fail(exchange, error));
  };

  /** Whether the app took the connection: upgrade(), or the response of upgradeWebSocket() (opened now). */
  const upgraded = (exchange: Exchange, response: unknown): boolean => {
    if (exchange.state === ResponseState.UPGRADED) return true;
    try {
      return websockets.open(exchange, response);
    } catch (error) {
      fail(exchange, error);
      return true;
    }
  };

  /** The Request for an exchange, or null if its URL cannot be represented (e.g. a Host with a bad port). */
  const makeRequest = (exchange: Exchange): Request | null => {
    const scheme = exchange.addresses.scheme;
    if (fast) return requestUrlIsValid(exchange, scheme) ? (new ServerRequest(exchange, scheme) as unknown as Request) : null;
    try {
      return createRequest(exchange, scheme);
    } catch {
      return null;
    }
  };

  const handle = (exchange: Exchange): void => {
    const method = exchange.head.method;
    if (UNREPRESENTABLE_METHODS.has(method)) {
      exchange.respondError(501, false);
      return;
    }
    // A body the app is not given (a GET's or a HEAD's) is read to its end
    // first: one that turns out malformed is answered 400, and the app never
    // sees the request.
    if (!exchange.body.complete && !exchange.bodyForApp) {
      dropBody(exchange).then(
        () => handle(exchange),
        () => {
          if (exchange.state === ResponseState.PENDING) exchange.respondError(400, true);
        },
      );
      return;
    }
    const request = makeRequest(exchange);
    if (request === null) {
      exchange.respondError(400, true);
      return;
    }
    let result: Response | PromiseLike<Response>;
    try {
      result = app.fetch(request, new RequestContext(exchange, hooks, websockets));
    } catch (error) {
      fail(exchange, error);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<Response>).then === 'function') {
      Promise.resolve(result).then(
        (response) => send(exchange, response),
        (error: unknown) => fail(exchange, error),
      );
    } else {
      send(exchange, result);
    }
  };
  return handle;
}

async function dropBody(exchange: Exchange): Promise<void> {
  while ((await exchange.body.read()) !== null);
}
