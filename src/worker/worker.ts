// A serving process's work, whoever started it: the app behind its HTTP
// engine (starlight's own for a Fetch app, node:http's for a Node app), the
// listeners it accepts on (pausing on the shared ones for a moment when
// fair-share.ts says so), its request count and the limit drawn
// for it (--max/--min-reqs-per-child), harakiri, waitUntil work, and stopping
// (stop accepting, finish or cut what is in flight, wait for cleanups). With
// --status-path, its figures, and the status page put before the app.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoadedApp } from '../app/load.js';
import type { Options } from '../config/options.js';
import { createFetchHandler, type FetchApp } from '../fetch/adapter.js';
import type { ServerHooks, WorkerInfo } from '../fetch/context.js';
import type { BaseServer, ServerOptions } from '../http/base-server.js';
import type { Exchange } from '../http/exchange.js';
import { HttpServer } from '../http/server.js';
import { acceptOn, pauseAccepting, resumeAccepting, type ListenHandle } from '../listen/bind.js';
import type { TlsMaterial } from '../listen/tls.js';
import type { AccessLog } from '../log/access-log.js';
import type { Logger } from '../log/logger.js';
import type { NodeAppServer, NodeListener, NodeUpgradeHandler } from '../node/server.js';
import type { StatusTable, WorkerFigures, WorkerStatus } from './protocol.js';
import { StatusPage } from './status.js';

/** How long a stopping worker goes on accepting what the kernel had queued (see Worker.stop()). */
const ACCEPT_AT_STOP_MS = 1000;

export interface WorkerSetup {
  id: number;
  options: Options;
  app: LoadedApp;
  /** --ssl: the key, certificates and CAs, as read at start. */
  tls: TlsMaterial | null;
  log: Logger;
  /** --access-log: where each request's line goes; none when absent. */
  accessLog?: AccessLog | null;
  /** Called once, at the first request. */
  firstRequest?(): void;
  /** Called after each connection accepted on a listener (with several workers: fair-share.ts). */
  accepted?(): void;
  /** Called after each connection has closed (fair-share.ts, as accepted()). */
  closed?(): void;
  /**
   * This worker retired (its request limit was reached, or the app asked:
   * harakiri): it accepts nothing more, finishes what it has in flight, and
   * is to be replaced. Null: nothing can replace this process (--workers=0),
   * which serves on.
   */
  retire: ((reason: string) => void) | null;
}

/** This worker's request limit: uniform in [min, max] (Starlet's --min-reqs-per-child). */
export function requestLimit(min: number | undefined, max: number): number {
  if (min === undefined || !Number.isFinite(max) || min >= max) return max;
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** The Node engine: node/server.ts, and node:http with it. */
type NodeEngine = typeof import('../node/server.js');

/**
 * The worker for `setup`. A Node app's worker loads the Node engine first; a Fetch app's
 * never loads it (node:http and the engine are some 0.7 MiB and several ms of each start).
 */
export async function createWorker(setup: WorkerSetup): Promise<Worker> {
  return new Worker(setup, setup.app.kind === 'node' ? await import('../node/server.js') : null);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class Worker {
  readonly http: BaseServer;
  readonly requestLimit: number;
  /** The listening handles accepted on, each shared with the other workers or not (--reuse-port's own, --workers=0's). */
  private readonly listening: Array<{ handle: ListenHandle; shared: boolean }> = [];
  private readonly cleanups = new Set<Promise<unknown>>();
  private retiring = false;
  private accepting = true;
  private stopping = false;
  /** Connections accepted on the listeners in all (see stop()). */
  private accepts = 0;
  /** --status-path; null without. */
  private readonly status: StatusPage | null;
  /** Every worker's figures as the master last sent them (null: none yet, or --workers=0). */
  private shared: StatusTable | null = null;

  /** `nodeEngine`: loaded for a Node app (createWorker() does it), null for a Fetch app. */
  constructor(
    private readonly setup: WorkerSetup,
    nodeEngine: NodeEngine | null,
  ) {
    const { app, options } = setup;
    this.requestLimit = requestLimit(options.minReqsPerChild, options.maxReqsPerChild);
    this.status = options.statusPath === undefined ? null : new StatusPage(options.statusPath, options.statusAllow, () => this.statusTable());
    this.http = app.kind === 'fetch' ? this.fetchServer(app.app) : this.nodeServer(app.listener, app.upgrade, nodeEngine);
  }

  /** What this worker counts of itself, for the status page. */
  figures(): WorkerFigures {
    return { requests: this.http.requests, connections: this.http.connections.size, rss: process.memoryUsage.rss() };
  }

  /** The master's latest table of every worker's figures. */
  statusShared(table: StatusTable): void {
    this.shared = table;
  }

  /** The status page's figures: the master's table with this worker's own line live (alone with --workers=0). */
  private statusTable(): StatusTable {
    const own: WorkerStatus = {
      id: this.setup.id,
      pid: process.pid,
      // (A retirement with --workers=0 serves on: accepting stays true.)
      state: this.stopping ? 'stopping' : this.accepting ? 'ready' : 'retiring',
      startedAt: performance.timeOrigin,
      ...this.figures(),
    };
    if (this.shared === null) return { startedAt: performance.timeOrigin, workers: [own] };
    const others = this.shared.workers.filter((worker) => worker.id !== own.id);
    return { startedAt: this.shared.startedAt, workers: [...others, own].sort((a, b) => a.id - b.id) };
  }

  /**
   * As each request is counted, before the app sees it: the one that reaches
   * the limit is this worker's last (it retires before answering it).
   */
  private counted(): void {
    if (this.http.requests === 1) this.setup.firstRequest?.();
    if (this.http.requests >= this.requestLimit) this.retire(`it received its ${this.requestLimit} requests`);
  }

  private fetchServer(app: FetchApp): HttpServer {
    const { options, log } = this.setup;
    const worker: WorkerInfo = {
      id: this.setup.id,
      pid: process.pid,
      get requests() {
        return http.requests;
      },
    };
    const hooks: ServerHooks = {
      worker,
      harakiri: () => this.retire('the app asked for harakiri'),
      waitUntil: (promise) => {
        const tracked = promise.catch((error: unknown) => log.error('a waitUntil() promise failed', error));
        this.cleanups.add(tracked);
        void tracked.finally(() => this.cleanups.delete(tracked));
      },
    };
    const handler = createFetchHandler({
      app,
      hooks,
      log,
      development: options.env === 'development',
      fast: options.fastFetch,
      websocket: { maxPayload: options.websocketMaxPayload, deflate: options.websocketDeflate },
    });
    const status = this.status;
    const http = new HttpServer({
      ...this.serverOptions(),
      handler: status === null ? handler : (exchange) => (status.names(exchange.head.target) ? answerStatus(status, exchange) : handler(exchange)),
    });
    return http;
  }

  private nodeServer(app: NodeListener, upgrade: NodeUpgradeHandler | undefined, engine: NodeEngine | null): NodeAppServer {
    if (engine === null) throw new Error('a Node app needs the Node engine: make its worker with createWorker()');
    const { options, log } = this.setup;
    const status = this.status;
    const listener: NodeListener =
      status === null ? app : (req, res) => (status.names(req.url!) ? answerNodeStatus(status, req, res, engine.clientAddress(req)) : app(req, res));
    return new engine.NodeAppServer({ ...this.serverOptions(), listener, upgrade, log, exposeErrors: options.env === 'development' });
  }

  /** What either server takes from the options, and the count of each request. */
  private serverOptions(): ServerOptions {
    const { options } = this.setup;
    return {
      maxHeaderSize: options.maxHeaderSize,
      maxHeaders: options.maxHeaders,
      maxBodySize: options.maxBodySize,
      headerTimeout: options.headerTimeout,
      keepaliveTimeout: options.keepaliveTimeout,
      timeout: options.timeout,
      maxKeepaliveRequests: options.maxKeepaliveReqs,
      serverSoftware: options.serverSoftware,
      onRequest: () => this.counted(),
      onConnectionGone: () => this.setup.closed?.(),
      tls: this.setup.tls,
      proxyProtocol: options.proxyProtocol,
      forwardedAllowIps: options.forwardedAllowIps,
      accessLog: this.setup.accessLog ?? null,
    };
  }

  /**
   * Starts accepting on bound handles (from bindListeners, or received from the master; `shared`:
   * the other workers accept on them too). Once this worker has stopped accepting, they are closed.
   */
  listen(handles: readonly ListenHandle[], shared = false): void {
    for (const handle of handles) {
      if (!this.accepting || this.stopping) {
        handle.close();
        continue;
      }
      acceptOn(handle, this.setup.options.backlog, (client) => {
        this.accepts++;
        this.http.accept(client);
        this.setup.accepted?.();
      });
      this.listening.push({ handle, shared });
    }
  }

  /**
   * Stops accepting on the shared listeners for a while, keeping them open (resumeShared()
   * accepts on them again); false if there was none to pause. A stopping worker does not pause:
   * it takes what the backlog holds before it closes them (stop()).
   */
  pauseShared(): boolean {
    if (this.stopping) return false;
    let paused = false;
    for (const { handle, shared } of this.listening) if (shared && pauseAccepting(handle)) paused = true;
    return paused;
  }

  /** Accepts again on the shared listeners that pauseShared() paused. */
  resumeShared(): void {
    for (const { handle, shared } of this.listening) if (shared) resumeAccepting(handle);
  }

  /**
   * Retires now, synchronously, so that nothing more reaches this worker:
   * it stops accepting, and every connection's current request is its last
   * (answered `Connection: close`; pipelined requests behind it are left for
   * the client to send again elsewhere). An idle keep-alive connection may
   * still bring the one request its client may already have sent; it is
   * answered the same way.
   */
  private retire(reason: string): void {
    if (this.retiring) return;
    this.retiring = true;
    const replaced = this.setup.retire;
    if (replaced === null) {
      this.setup.log.warn(`this process would retire (${reason}), but with --workers=0 nothing replaces it; serving on`);
      return;
    }
    this.stopAccepting();
    void this.http.shutdown(false);
    replaced(reason);
  }

  /** Stops taking connections; the listening sockets stay open in other processes (the master keeps a copy of --reuse-port's). */
  stopAccepting(): void {
    this.accepting = false;
    this.closeListeners();
  }

  private closeListeners(): void {
    for (const { handle } of this.listening.splice(0)) handle.close();
  }

  /**
   * Stops: no new connections; in-flight requests finish (their responses say
   * `Connection: close`) within `graceMs`, then whatever is left is cut, and
   * waitUntil() work gets what remains of the grace time. `closeIdle`: idle
   * keep-alive connections close at once (a stop) rather than at their next
   * response or timeout (a retirement).
   */
  async stop(graceMs: number, closeIdle: boolean): Promise<void> {
    const deadline = Date.now() + graceMs;
    this.stopping = true;
    // What the kernel had queued on the listeners is accepted before they close: those clients
    // were promised an answer, one request each, where closing the last copy of a listening
    // socket resets them. libuv accepts one connection a listener each turn of the event loop
    // (the next is seen at the next poll), so the listeners stay open until a whole turn has
    // accepted nothing, for ACCEPT_AT_STOP_MS at most (under a steady load the queue never empties).
    const acceptUntil = Math.min(deadline, Date.now() + ACCEPT_AT_STOP_MS);
    this.resumeShared();
    await nextTurn();
    let before: number;
    do {
      before = this.accepts;
      await nextTurn();
    } while (this.accepts !== before && Date.now() < acceptUntil);
    this.closeListeners();
    const drained = await Promise.race([this.http.shutdown(closeIdle).then(() => true), delay(graceMs).then(() => false)]);
    this.accepting = false;
    const cut = drained ? 0 : this.http.connections.size;
    if (cut > 0) this.setup.log.warn(`--graceful-timeout (${graceMs / 1000} s) passed: cutting ${cut} connection${cut === 1 ? '' : 's'} still in flight`);
    this.http.destroy();
    if (this.cleanups.size > 0) await Promise.race([Promise.allSettled([...this.cleanups]), delay(Math.max(0, deadline - Date.now()))]);
  }
}

/** Resolves in the check phase of the event loop's turn: after its poll. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A status request to the Fetch engine, answered in the app's place (the client: as the app would be told). */
function answerStatus(status: StatusPage, exchange: Exchange): void {
  const { method, target } = exchange.head;
  const answer = status.answer(method, target, exchange.addresses.remoteAddress);
  exchange.respond(answer.status, answer.fields, answer.body);
}

/** A status request to a Node app's server, answered in the app's place. */
function answerNodeStatus(status: StatusPage, req: IncomingMessage, res: ServerResponse, client: string | undefined): void {
  const answer = status.answer(req.method!, req.url!, client);
  res.writeHead(answer.status, { ...Object.fromEntries(answer.fields), 'Content-Length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}
