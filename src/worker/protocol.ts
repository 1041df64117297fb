// The messages between the master and a worker process, over the IPC channel
// of child_process.fork (JSON). Listening sockets travel as handles beside
// the messages.

import type { Options } from '../config/options.js';
import type { TlsMaterial } from '../listen/tls.js';
import type { Identity } from './privileges.js';

/** Master → worker. */
export type ToWorker =
  /** The first message: who the worker is and what it serves (with --ssl, the PEM files the master read). */
  | { type: 'start'; id: number; options: WireOptions; app: string | undefined; cwd: string; identity: Identity | null; tls: TlsMaterial | null }
  /**
   * A listening socket to accept on (handle attached): `shared`, one all workers accept on; else a
   * --reuse-port socket of this worker's own.
   */
  | { type: 'listener'; shared: boolean }
  /** All listeners sent: start serving. */
  | { type: 'serve' }
  /** Stop: gracefully within graceMs (idle keep-alive connections closed at once with closeIdle), or at once. */
  | { type: 'stop'; graceful: boolean; closeIdle: boolean; graceMs: number }
  /** Log rotation (the master got USR1): open the error log again by its name. */
  | { type: 'reopen-logs' }
  /** --status-path: every worker's figures as the master last heard them, sent once a second. */
  | { type: 'status'; table: StatusTable }
  /** Each serving worker's open connections, by id, as the master last heard them (fair-share.ts). */
  | { type: 'loads'; loads: Array<[id: number, connections: number]> };

/** Worker → master. */
export type FromWorker =
  /** Listening for messages: the master may send `start`. */
  | { type: 'hello' }
  /** The app loaded; its own `port`/`hostname` exports, for the master to bind with. */
  | { type: 'booted'; port: string | number | undefined; hostname: string | number | undefined }
  /** The app could not load; the worker exits after this. */
  | { type: 'failed'; message: string }
  /** Accepting requests. */
  | { type: 'ready' }
  /** It received its first request: the app serves (a later death is not a crash loop). */
  | { type: 'served' }
  /**
   * Sent while the event loop runs; the master kills a worker that stops sending them. With its
   * open connections, and with --status-path, the worker's figures.
   */
  | { type: 'heartbeat'; connections: number; figures?: WorkerFigures }
  /** Its open connections changed (at most every 25-50 ms: fair-share.ts). */
  | { type: 'load'; connections: number }
  /**
   * Reached its request limit, or the app called harakiri: it has stopped
   * accepting and finishes what it has in flight; the master replaces it and
   * tells it to stop.
   */
  | { type: 'retire'; reason: string };

/** What a serving process counts of itself, for the status page (--status-path). */
export interface WorkerFigures {
  /** Requests received. */
  requests: number;
  /** Connections open. */
  connections: number;
  /** Resident set size, in bytes. */
  rss: number;
}

/** One worker's line of the status page. */
export interface WorkerStatus extends WorkerFigures {
  id: number;
  pid: number;
  /** booting, booted, ready, retiring or stopping. */
  state: string;
  /** When it started (ms since the epoch): its uptime is reckoned when the page is answered. */
  startedAt: number;
}

/** The status page's figures: when the server (the master) started, and each worker's. */
export interface StatusTable {
  startedAt: number;
  workers: WorkerStatus[];
}

/** Set in a worker's environment: the pid of the master that forked it. */
export const MASTER_PID_VARIABLE = 'STARLIGHT_MASTER_PID';

/** Whether this process is a worker forked by a starlight master (and not, say, a child of a worker). */
export function isWorkerProcess(): boolean {
  return process.send !== undefined && process.env[MASTER_PID_VARIABLE] === String(process.ppid);
}

/** The worker's exit code when it cannot serve (the app does not load, a listener fails). */
export const EXIT_CANNOT_SERVE = 3;

/** How often a worker with this --worker-timeout (ms) says it is alive (ms). */
export function heartbeatInterval(workerTimeout: number): number {
  return workerTimeout === 0 ? 1000 : Math.min(1000, Math.max(20, workerTimeout / 4));
}

/** Options as JSON: the one value JSON cannot carry (Infinity, for "no limit") is spelled out. */
export type WireOptions = Record<string, unknown>;
const INFINITY = { infinity: true } as const;

export function encodeOptions(options: Options): WireOptions {
  return Object.fromEntries(Object.entries(options).map(([key, value]) => [key, value === Infinity ? INFINITY : value]));
}

export function decodeOptions(wire: WireOptions): Options {
  const decode = (value: unknown) => (typeof value === 'object' && value !== null && (value as { infinity?: unknown }).infinity === true ? Infinity : value);
  return Object.fromEntries(Object.entries(wire).map(([key, value]) => [key, decode(value)])) as unknown as Options;
}
