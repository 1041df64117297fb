// The life of a worker process forked by the master: it says hello, receives
// its options, opens the error log, becomes --user/--group, loads the app
// (through the loader it is given: the app module for the command line, the
// script's own fetch for serve()), reports, accepts on the listeners the
// master hands it (shared with the other workers, less while it holds more
// than its share of the connections: fair-share.ts), heartbeats, retires at its request limit or on harakiri (it stops
// accepting at once and says so), and stops when told, by the master or by a
// signal (stop-policy.ts). It writes its requests' lines to the access log
// (flushed as it exits), and on the master's word (or USR1) it reopens its
// logs. Signals sent to the whole process group (a Ctrl-C, a closed
// terminal) are the master's to act on, so the worker ignores INT and HUP.

import { resolve } from 'node:path';
import type { LoadedApp } from '../app/load.js';
import { optionFor, type Options } from '../config/options.js';
import type { ListenHandle } from '../listen/bind.js';
import { openAccessLog, type AccessLog } from '../log/access-log.js';
import { ErrorLog } from '../log/error-log.js';
import { createLogger } from '../log/logger.js';
import {
  EXIT_CANNOT_SERVE,
  decodeOptions,
  heartbeatInterval,
  type FromWorker,
  type ToWorker,
} from './protocol.js';
import { FairShare } from './fair-share.js';
import { dropPrivileges } from './privileges.js';
import { StopState, type Stop, type StopSignal } from './stop-policy.js';
import { createWorker, type Worker } from './worker.js';

/** Sends to the master while it is there (a send on a closed channel would throw out of the event loop). */
const send = (message: FromWorker) => {
  if (process.connected) process.send?.(message);
};

let id = 0;
let worker: Worker | null = null;
let fairShare: FairShare | null = null;
let options: Options | null = null;
/** The listeners received before the word to serve, and whether each is shared with the other workers. */
const listeners: Array<{ handle: ListenHandle; shared: boolean }> = [];
const errorLog = new ErrorLog();
let accessLog: AccessLog | null = null;
const log = createLogger(errorLog, () => `starlight worker ${id}[${process.pid}]`);

export type StartMessage = Extract<ToWorker, { type: 'start' }>;
/** Loads the app of a worker, given what the master sent. */
export type AppLoader = (start: StartMessage, options: Options) => Promise<LoadedApp>;

async function start(message: StartMessage, load: AppLoader): Promise<void> {
  id = message.id;
  process.title = `starlight worker ${id}`;
  options = decodeOptions(message.options);
  if (options.errorLog !== undefined) {
    try {
      errorLog.open(resolve(message.cwd, options.errorLog));
    } catch (error) {
      fail((error as Error).message);
      return;
    }
    // The app's console output follows the log across rotations (its stdout and stderr, the
    // file as it was when this worker started, take what else it writes there).
    globalThis.console = errorLog.console();
  }
  try {
    accessLog = openAccessLog(options, message.cwd, id);
  } catch (error) {
    fail((error as Error).message);
    return;
  }
  // Before any app code runs: the app never runs as root when --user says otherwise.
  if (message.identity !== null) {
    try {
      dropPrivileges(message.identity);
    } catch (error) {
      fail(`cannot become --user/--group: ${(error as Error).message}`);
      return;
    }
  }
  // Heartbeats start now: an app that takes its time to load (awaiting a
  // database, say) is alive; one whose loading blocks the event loop is not.
  // With --status-path they carry this worker's figures, which the master shares with all.
  const reportsFigures = options.statusPath !== undefined;
  setInterval(() => {
    const connections = worker?.http.connections.size ?? 0;
    send(reportsFigures && worker !== null ? { type: 'heartbeat', connections, figures: worker.figures() } : { type: 'heartbeat', connections });
  }, heartbeatInterval(options.workerTimeout)).unref();
  try {
    const app = await load(message, options);
    const share = new FairShare(id, {
      connections: () => worker?.http.connections.size ?? 0,
      report: (connections) => send({ type: 'load', connections }),
      pause: () => worker?.pauseShared() ?? false,
      resume: () => worker?.resumeShared(),
    });
    fairShare = share;
    worker = await createWorker({
      id,
      options,
      app,
      tls: message.tls,
      log,
      accessLog,
      firstRequest: () => send({ type: 'served' }),
      accepted: () => share.accepted(),
      closed: () => share.closed(),
      retire: (reason) => send({ type: 'retire', reason }),
    });
    send({ type: 'booted', port: app.port, hostname: app.hostname });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}

/** Told to serve: listening on the listeners received. */
let serving = false;

function serve(): void {
  if (worker === null) return;
  serving = true;
  try {
    for (const { handle, shared } of listeners) worker.listen([handle], shared);
  } catch (error) {
    fail((error as Error).message);
    return;
  }
  send({ type: 'ready' });
}

/** Tells the master why this worker cannot serve, then exits. */
function fail(message: string): void {
  const failed: FromWorker = { type: 'failed', message };
  process.send?.(failed, undefined, undefined, () => process.exit(EXIT_CANNOT_SERVE));
}

/** Log rotation; a failure keeps the old file and says so there. */
function reopenLogs(): void {
  try {
    errorLog.reopen();
  } catch (error) {
    log.error('the error log stays where it was', error);
  }
  try {
    accessLog?.reopen();
  } catch (error) {
    log.error('the access log stays where it was', error);
  }
}

const stopState = new StopState();

/** Begins `stop` (null: none, the one under way goes on); graceful within `graceMs`, then this process exits. */
async function stop(stop: Stop | null, closeIdle: boolean, graceMs: number): Promise<void> {
  if (stop === null) return;
  if (stop === 'immediate' || worker === null) {
    worker?.http.destroy();
    process.exit(0);
  }
  await worker.stop(graceMs, closeIdle);
  process.exit(0);
}

const onSignal = (signal: StopSignal) => void stop(stopState.signal(signal), true, graceMs());

/** --graceful-timeout: the master's word once it has sent it, else the default. */
const graceMs = (): number => options?.gracefulTimeout ?? (optionFor('gracefulTimeout').default as number);

/** Runs this process as a worker of the master that forked it. */
export function runWorkerProcess(load: AppLoader): void {
  process.on('message', (message: ToWorker, handle?: unknown) => {
    switch (message.type) {
      case 'start':
        void start(message, load);
        break;
      case 'listener': {
        const listener = handle as ListenHandle;
        // Once serving, one more (--reuse-port: the sockets of the worker this one replaces) is
        // accepted on at once.
        if (stopState.stopping !== null) listener.close();
        else if (!serving) listeners.push({ handle: listener, shared: message.shared });
        else {
          try {
            worker?.listen([listener], message.shared);
          } catch (error) {
            fail((error as Error).message);
          }
        }
        break;
      }
      case 'loads':
        fairShare?.shared(message.loads);
        break;
      case 'serve':
        serve();
        break;
      case 'reopen-logs':
        reopenLogs();
        break;
      case 'status':
        worker?.statusShared(message.table);
        break;
      case 'stop':
        void stop(stopState.begin(message.graceful ? 'graceful' : 'immediate'), message.closeIdle, message.graceMs);
        break;
    }
  });

  // The master is gone: finish what is in flight, then go too.
  process.on('disconnect', () => void stop(stopState.begin('graceful'), true, graceMs()));
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  // USR1 sent to the whole group (a logrotate script's kill) means rotation here too, not Node's debugger.
  process.on('SIGUSR1', reopenLogs);
  // However this process ends its way out (process.exit() after a stop), the lines it holds are written.
  process.on('exit', () => accessLog?.flush());
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGQUIT', () => onSignal('SIGQUIT'));
  send({ type: 'hello' });
}
