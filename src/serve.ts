// serve() from code: the server of the command line, with the app given as a
// function. It takes the command line's options in camelCase (plus `fetch`,
// or `app` for a module path, and `hostname` for `host`) and the call shapes
// of @hono/node-server (`serve(options, onListen)`) and srvx (`await
// server.ready()`), so it can stand in for either. With `workers > 0` the
// calling script becomes the master and runs again in each worker, where the
// same serve() call finds the master and serves its requests.

import { bootApp, type LoadedApp } from './app/load.js';
import { commandLineFromCode } from './config/resolve.js';
import type { Options } from './config/options.js';
import type { FetchApp } from './fetch/adapter.js';
import type { RequestContext } from './fetch/context.js';
import { installFastClasses } from './fetch/light/fast-response.js';
import { prepareListeners } from './listen/address.js';
import type { BoundListener } from './listen/bind.js';
import { listenerUrl } from './listen/tls.js';
import { Master } from './master/master.js';
import { serveSolo } from './worker/solo.js';
import { isWorkerProcess } from './worker/protocol.js';
import { runWorkerProcess } from './worker/process.js';

export type FetchHandler = (request: Request, context: RequestContext) => Response | PromiseLike<Response>;

export type ServeOptions = Partial<Omit<Options, 'port'>> & {
  /** The app: a Fetch handler… */
  fetch?: FetchHandler;
  /** …or a module whose default export is the app. */
  app?: string;
  port?: number | string;
  /** Same as `host` (the @hono/node-server and srvx spelling). */
  hostname?: string;
};

export interface ListeningAddress {
  address: string;
  port: number;
  url: string;
}

export interface Server {
  /** Resolves once the server accepts connections: `await server.ready` or, as srvx has it, `await server.ready()`. */
  readonly ready: Promise<Server> & (() => Promise<Server>);
  /** The listeners' addresses (empty until ready, and in a worker). */
  readonly addresses: ListeningAddress[];
  /** The first listener's URL, once ready. */
  readonly url: string | undefined;
  /** Stops serving: gracefully by default (in-flight requests finish), or at once. */
  close(graceful?: boolean): Promise<void>;
}

/** A promise that can also be called to get itself. */
function callablePromise<T>(promise: Promise<T>): Promise<T> & (() => Promise<T>) {
  const callable = (() => promise) as Promise<T> & (() => Promise<T>);
  callable.then = promise.then.bind(promise) as typeof promise.then;
  callable.catch = promise.catch.bind(promise) as typeof promise.catch;
  callable.finally = promise.finally.bind(promise) as typeof promise.finally;
  return callable;
}

/** The app of a fetch handler given to serve(). */
function handlerApp(fetch: FetchHandler): LoadedApp & { kind: 'fetch' } {
  const app: FetchApp = { fetch };
  return { kind: 'fetch', app, port: undefined, hostname: undefined, file: 'serve()' };
}

export function serve(options: ServeOptions, onListen?: (address: ListeningAddress) => void): Server {
  const { fetch, app: appModule, hostname, ...rest } = options;
  if (appModule === undefined && typeof fetch !== 'function') throw new TypeError('serve() needs a fetch(request, context) function, or an app module path');
  const commandLine = commandLineFromCode({ ...rest, host: rest.host ?? hostname }, process.env);
  if (appModule !== undefined) commandLine.app = appModule;

  const addresses: ListeningAddress[] = [];
  let resolveReady!: (server: Server) => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<Server>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => {});
  let stop: (graceful: boolean) => Promise<void> = () => ready.then(() => stop(true));
  const server: Server = {
    ready: callablePromise(ready),
    addresses,
    get url() {
      return addresses[0]?.url;
    },
    close: (graceful = true) => stop(graceful),
  };
  const listening = (listeners: readonly BoundListener[]) => {
    for (const listener of listeners) addresses.push({ address: listener.address, port: listener.port, url: listenerUrl(listener, commandLine.options.ssl) });
    resolveReady(server);
    if (onListen !== undefined && addresses[0] !== undefined) onListen(addresses[0]);
  };
  const load = () =>
    appModule === undefined
      ? Promise.resolve(handlerApp(fetch!))
      : bootApp({ app: appModule, code: undefined, imports: commandLine.options.import, cwd: process.cwd(), fastClasses: commandLine.options.fastFetch });

  if (!isWorkerProcess()) prepareListeners(commandLine, process.env, process.pid, process.version);
  if (isWorkerProcess()) {
    // This script runs again in a worker: the master sends the options and hands out the connections.
    runWorkerProcess(async (_start, workerOptions) => {
      if (workerOptions.fastFetch) installFastClasses();
      return load();
    });
    stop = async () => {};
    resolveReady(server);
  } else if (commandLine.options.workers === 0) {
    void load()
      .then((app) => serveSolo(commandLine, app, app.file))
      .then((solo) => {
        stop = (graceful) => solo.stop(graceful);
        listening(solo.listeners);
      }, rejectReady);
  } else {
    const entry = { module: process.argv[1]!, args: process.argv.slice(2), execArgv: process.execArgv };
    const master = new Master(commandLine, appModule, entry, listening);
    let closing = false;
    const finished = master.run();
    stop = (graceful) => {
      closing = true;
      master.requestStop(graceful);
      return finished.then(() => {});
    };
    void finished.then((code) => {
      if (code !== 0) rejectReady(new Error(`starlight could not start (exit code ${code})`));
      // Stopped by a signal rather than close(): end as the command would.
      else if (!closing) process.exit(code);
    });
  }
  return server;
}
