// The worker processes as the master sees them: each one's state, what it
// last reported, and its exit. Children are started here through a spawner
// (child_process.fork, or a test's fake) and their events are recorded on
// their WorkerProcess (never acted on here): the master loop reads the records
// on its next pass. libuv reaps every exited child, so no worker is ever left
// a zombie.

import { fork } from 'node:child_process';
import type { Options } from '../config/options.js';
import type { ListenHandle } from '../listen/bind.js';
import type { TlsMaterial } from '../listen/tls.js';
import type { Identity } from '../worker/privileges.js';
import { MASTER_PID_VARIABLE, encodeOptions, type FromWorker, type ToWorker, type WorkerFigures } from '../worker/protocol.js';

export const WorkerState = {
  /** Started; loading the app. */
  BOOTING: 0,
  /** The app loaded; waiting for listeners and the word to serve. */
  BOOTED: 1,
  /** Serving. */
  READY: 2,
  /** Reached its request limit or called harakiri: it accepts nothing more and is to be replaced. */
  RETIRING: 3,
  /** Told to stop; finishing what it has in flight. */
  STOPPING: 4,
} as const;
export type WorkerState = (typeof WorkerState)[keyof typeof WorkerState];

/** Each state as the status page says it. */
export const STATE_NAMES: Readonly<Record<WorkerState, string>> = ['booting', 'booted', 'ready', 'retiring', 'stopping'];

/** What a worker process runs: our worker entry, or (serve() from code) the user's own script. */
export interface WorkerEntry {
  module: string;
  args: string[];
  execArgv: string[];
}

/** A started worker process, as the master uses it: a ChildProcess of fork(), or a test's fake. */
export interface WorkerChild {
  readonly pid?: number | undefined;
  /** Its IPC channel is open. */
  readonly connected: boolean;
  send(message: ToWorker, handle: object | undefined, options: object, done: (error: Error | null) => void): boolean;
  kill(signal: NodeJS.Signals): boolean;
  /**
   * 'message' (a FromWorker), 'exit' (code, signal), 'close' (exited, and its
   * channel read to the end: every message it sent has arrived), 'error'.
   */
  on(event: 'message' | 'exit' | 'close' | 'error', listener: (...args: any[]) => void): unknown;
}

/** Starts a worker process running `entry`, its stdout and stderr on `output` (a descriptor), or on the master's. */
export type SpawnWorker = (entry: WorkerEntry, env: NodeJS.ProcessEnv, cwd: string, output: number | null) => WorkerChild;

/** The default spawner: a forked Node process with an IPC channel (JSON). */
export const forkWorker: SpawnWorker = (entry, env, cwd, output) =>
  fork(entry.module, entry.args, {
    execArgv: entry.execArgv,
    cwd,
    env,
    stdio: ['ignore', output ?? 'inherit', output ?? 'inherit', 'ipc'],
    serialization: 'json',
  });

export class WorkerProcess {
  state: WorkerState = WorkerState.BOOTING;
  /** When the worker last showed a sign of life (ms). */
  lastSeen: number;
  readyAt = 0;
  /** It received a request (the app serves): its death is not a crash loop. */
  hasServed = false;
  /** Its app's exported port/hostname (from `booted`). */
  appPort: string | number | undefined;
  appHostname: string | number | undefined;
  /** Told to serve (listeners handed over). */
  toldToServe = false;
  /** Why it retired, until the master has acted on it. */
  retireReason: string | null = null;
  /** The app failed to load in it. */
  failure: string | null = null;
  /** Killed for missing heartbeats. */
  unresponsive = false;
  /** Its figures from its last heartbeat (--status-path); null before one came. */
  figures: WorkerFigures | null = null;
  /** Its open connections, as it last said. */
  connections = 0;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(
    readonly id: number,
    readonly generation: number,
    readonly child: WorkerChild,
    readonly startedAt: number,
  ) {
    this.lastSeen = startedAt;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Counts toward the number of workers wanted. */
  get counted(): boolean {
    return this.state === WorkerState.BOOTING || this.state === WorkerState.BOOTED || this.state === WorkerState.READY;
  }

  /** Messages can reach it (it has not exited, its channel is open). */
  get reachable(): boolean {
    return this.exit === null && this.child.connected;
  }

  send(message: ToWorker, handle?: ListenHandle | object, done?: (error: Error | null) => void): void {
    if (!this.child.connected) {
      done?.(new Error('the worker is gone'));
      return;
    }
    this.child.send(message, handle, {}, (error) => done?.(error));
  }

  kill(signal: NodeJS.Signals): void {
    if (this.exit === null) this.child.kill(signal);
  }

  describe(): string {
    return `worker ${this.id} (pid ${this.pid})`;
  }
}

/** What the pool passes on from its workers. */
export interface PoolEvents {
  /** Any event from a worker: the master loop looks again. */
  changed(): void;
}

export class Pool {
  readonly workers = new Map<number, WorkerProcess>();
  private nextId = 1;

  constructor(
    private readonly entry: WorkerEntry,
    private readonly start: {
      options: Options;
      app: string | undefined;
      cwd: string;
      /** Whom the workers become before they load the app (--user, --group, --umask). */
      identity: Identity | null;
      /** The error log file's descriptor now (a worker's stdout and stderr), or null: the master's stderr. */
      output: () => number | null;
      /** --ssl: the PEM files the master read. */
      tls: TlsMaterial | null;
    },
    private readonly events: PoolEvents,
    private readonly spawnWorker: SpawnWorker = forkWorker,
  ) {}

  spawn(generation: number): WorkerProcess {
    const id = this.nextId++;
    const child = this.spawnWorker(this.entry, { ...process.env, [MASTER_PID_VARIABLE]: String(process.pid) }, this.start.cwd, this.start.output());
    const worker = new WorkerProcess(id, generation, child, Date.now());
    this.workers.set(id, worker);
    child.on('message', (message: FromWorker) => {
      worker.lastSeen = Date.now();
      switch (message.type) {
        // The worker listens now: it is told who it is and what to serve.
        case 'hello':
          worker.send({
            type: 'start',
            id,
            options: encodeOptions(this.start.options),
            app: this.start.app,
            cwd: this.start.cwd,
            identity: this.start.identity,
            tls: this.start.tls,
          });
          break;
        default:
          record(worker, message);
      }
      this.events.changed();
    });
    child.on('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      worker.exit = { code, signal };
      this.events.changed();
    });
    child.on('error', () => {
      // A failed fork or a broken channel: the exit event follows, or the heartbeat check catches it.
    });
    return worker;
  }

  remove(worker: WorkerProcess): void {
    this.workers.delete(worker.id);
  }

  get size(): number {
    return this.workers.size;
  }

  list(): WorkerProcess[] {
    return [...this.workers.values()];
  }

  inState(state: WorkerState): WorkerProcess[] {
    return this.list().filter((worker) => worker.state === state);
  }
}

/** Notes a worker's message on its record. */
function record(worker: WorkerProcess, message: Exclude<FromWorker, { type: 'hello' }>): void {
  switch (message.type) {
    case 'booted':
      worker.state = WorkerState.BOOTED;
      worker.appPort = message.port;
      worker.appHostname = message.hostname;
      break;
    case 'failed':
      worker.failure = message.message;
      break;
    case 'ready':
      if (worker.state === WorkerState.BOOTED) worker.state = WorkerState.READY;
      worker.readyAt = Date.now();
      break;
    case 'served':
      worker.hasServed = true;
      break;
    case 'heartbeat':
      worker.connections = message.connections;
      if (message.figures !== undefined) worker.figures = message.figures;
      break;
    case 'load':
      worker.connections = message.connections;
      break;
    case 'retire':
      worker.retireReason = message.reason;
      if (worker.state === WorkerState.READY || worker.state === WorkerState.BOOTED) worker.state = WorkerState.RETIRING;
      break;
  }
}
