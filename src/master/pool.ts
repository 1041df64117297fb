// The worker processes as the master sees them: each one's state, what it
// last reported, and its exit. Children are forked here and their events are
// recorded on their WorkerProcess (never acted on here): the master loop
// reads the records on its next pass. libuv reaps every exited child, so no
// worker is ever left a zombie.

import { fork, type ChildProcess } from 'node:child_process';
import type { Options } from '../config/options.js';
import type { ListenHandle } from '../listen/bind.js';
import { MASTER_PID_VARIABLE, encodeOptions, type FromWorker, type ToWorker } from '../worker/protocol.js';

export const WorkerState = {
  /** Forked; loading the app. */
  BOOTING: 0,
  /** The app loaded; waiting for listeners and the word to serve. */
  BOOTED: 1,
  /** Serving. */
  READY: 2,
  /** Asked to be replaced; serves (with `Connection: close`) until its replacement is ready. */
  RETIRING: 3,
  /** Told to stop; finishing what it has in flight. */
  STOPPING: 4,
} as const;
export type WorkerState = (typeof WorkerState)[keyof typeof WorkerState];

/** What a worker process runs: our worker entry, or (serve() from code) the user's own script. */
export interface WorkerEntry {
  module: string;
  args: string[];
  execArgv: string[];
}

export class WorkerProcess {
  state: WorkerState = WorkerState.BOOTING;
  /** When the worker last showed a sign of life (ms). */
  lastSeen: number;
  readyAt = 0;
  requests = 0;
  connections = 0;
  /** Its app's exported port/hostname (from `booted`). */
  appPort: string | number | undefined;
  appHostname: string | number | undefined;
  /** Told to serve (listeners handed over). */
  served = false;
  /** Why it asked to be replaced. */
  retireReason: string | null = null;
  /** The app failed to load in it. */
  failure: string | null = null;
  /** Killed for missing heartbeats. */
  unresponsive = false;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(
    readonly id: number,
    readonly generation: number,
    readonly child: ChildProcess,
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

  send(message: ToWorker, handle?: ListenHandle | object, done?: (error: Error | null) => void): void {
    if (!this.child.connected) {
      done?.(new Error('the worker is gone'));
      return;
    }
    this.child.send(message, handle as never, {}, (error) => done?.(error));
  }

  describe(): string {
    return `worker ${this.id} (pid ${this.pid})`;
  }
}

export class Pool {
  readonly workers = new Map<number, WorkerProcess>();
  private nextId = 1;

  constructor(
    private readonly entry: WorkerEntry,
    private readonly start: { options: Options; app: string | undefined; cwd: string },
    /** Called on every event from a worker, to wake the master loop. */
    private readonly changed: () => void,
  ) {}

  spawn(generation: number): WorkerProcess {
    const id = this.nextId++;
    const child = fork(this.entry.module, this.entry.args, {
      execArgv: this.entry.execArgv,
      cwd: this.start.cwd,
      env: { ...process.env, [MASTER_PID_VARIABLE]: String(process.pid) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    const worker = new WorkerProcess(id, generation, child, Date.now());
    this.workers.set(id, worker);
    child.on('message', (message: FromWorker) => {
      worker.lastSeen = Date.now();
      // The worker listens now: it is told who it is and what to serve.
      if (message.type === 'hello') worker.send({ type: 'start', id, options: encodeOptions(this.start.options), app: this.start.app, cwd: this.start.cwd });
      record(worker, message);
      this.changed();
    });
    child.on('exit', (code, signal) => {
      worker.exit = { code, signal };
      this.changed();
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
function record(worker: WorkerProcess, message: FromWorker): void {
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
    case 'heartbeat':
      worker.requests = message.requests;
      worker.connections = message.connections;
      break;
    case 'retire':
      worker.retireReason = message.reason;
      if (worker.state === WorkerState.READY) worker.state = WorkerState.RETIRING;
      break;
  }
}
