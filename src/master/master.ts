// The master: one loop that owns every decision about the worker processes.
// Signal handlers and worker events only record and wake it; each pass then
//   1. acts on queued signals (stop, roll, grow, shrink) and --reload's file
//      changes (reloader.ts: a roll, as HUP),
//   2. reaps exited workers (logs, crash-loop backoff, a failed roll),
//   3. opens the listeners (before any worker starts, or once a first worker
//      has loaded the app where its exported port may decide where),
//   4. hands listeners to booted workers and tells them to serve (each
//      worker accepts on them itself: the kernel deals the connections, and
//      the master, which keeps its copy open and never polls it, is out of
//      their path), and once the initial workers serve shows the banner,
//   5. kills workers that stopped heartbeating,
//   6. keeps the number of workers: a worker that retired (its request
//      limit, harakiri) has already stopped accepting, so its replacement is
//      spawned and it is told to stop in the same pass; surplus workers retire,
//   7. advances a rolling restart by one step,
//   8. acts on a USR2 successor's outcome (upgrade.ts): once it serves, this
//      master stops gracefully, leaving it the sockets; if it failed, this
//      master keeps serving and says why,
//   9. with --status-path, sends the workers every worker's figures (from
//      their heartbeats) once a second: the worker a status request reaches
//      answers it, and the master does no work per request,
//  10. passes on each serving worker's open connections, as the workers
//      report them (each at most every 25-50 ms, not per connection), to all,
//      at most every LOADS_SHARE_MS: a worker over its share stops accepting
//      for a moment (worker/fair-share.ts),
// then sleeps for --main-process-delay or until the next event. It never
// loads app code: workers do, and report what the app exported.
//
// A crash loop is told from a worker killed in service by what the worker
// did before it died: one that never became ready, or died within
// STABLE_AFTER_MS of becoming ready without having received a request, died
// young, and consecutive young deaths pause the next start (100 ms, doubling
// up to MAX_BACKOFF_MS). A worker that received a request proved that the
// app serves: whatever killed it (a SIGKILL, the OOM killer), it is replaced
// at once. The pauses end once a worker started after the last young death
// proves itself (a request, or STABLE_AFTER_MS up).

import { dirname, isAbsolute, resolve } from 'node:path';
import type { Options } from '../config/options.js';
import { withAppDefaults, type CommandLine } from '../config/resolve.js';
import { masterSignals } from '../config/platform.js';
import type { Signal } from '../config/signals.js';
import { appMayDecideListeners, listenSpecs } from '../listen/address.js';
import { adoptListening, bindListeners, closeHandedOver, type BoundListener } from '../listen/bind.js';
import { listenerShown, readTlsMaterial, type TlsMaterial } from '../listen/tls.js';
import { compileAccessFormat } from '../log/access-format.js';
import { prepareAccessLogFile } from '../log/access-log.js';
import { banner } from '../log/banner.js';
import { ErrorLog } from '../log/error-log.js';
import { createLogger, type Logger } from '../log/logger.js';
import { resolveIdentity, type Identity } from '../worker/privileges.js';
import { heartbeatInterval, type StatusTable } from '../worker/protocol.js';
import { StopState, isStopSignal, stopMessage, type Stop } from '../worker/stop-policy.js';
import { PidFile } from './pidfile.js';
import { Reloader } from './reloader.js';
import { Pool, STATE_NAMES, WorkerState, forkWorker, type SpawnWorker, type WorkerEntry, type WorkerProcess } from './pool.js';
import { Successor, ownCommand, takePredecessor, takeReusePortFds, takeWorkerSocketFds, tellPredecessor, type MasterCommand } from './upgrade.js';
import { WorkerSockets } from './worker-sockets.js';

/** A worker that dies sooner than this after it was ready, having received no request, died young (a crash loop). */
const STABLE_AFTER_MS = 5000;
/** How long the first ready worker waits for the other initial workers before the server serves without them. */
const INITIAL_READY_WAIT_MS = 5000;
/** Longest pause between respawns in a crash loop. */
const MAX_BACKOFF_MS = 10000;
/** How long an immediate stop waits for workers to exit before killing them. */
const IMMEDIATE_STOP_MS = 1000;
/** A graceful stop's margin past --graceful-timeout for workers to exit by themselves before they are killed. */
const EXIT_MARGIN_MS = 1000;
/** How often the workers are sent the status page's figures (--status-path). */
const STATUS_SHARE_MS = 1000;
/** How often at most the workers are sent each other's open connections: a message to each, whatever the number of reports. */
const LOADS_SHARE_MS = 10;

/** What --reload's watcher queues: a rolling restart, as SIGHUP does. */
const FILE_CHANGED = 'file-changed';

/** A rolling restart: old workers to replace, and the new one now starting. */
interface Roll {
  old: WorkerProcess[];
  fresh: WorkerProcess | null;
  lastStep: number;
}

/** The fatal end of a start: the message to print and the exit code. */
class Fatal extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export class Master {
  private options: Options;
  private readonly log: Logger;
  private readonly errorLog = new ErrorLog();
  /** The --access-log file the workers write (absolute); null: none, or stderr. */
  private readonly accessLogFile: string | null;
  /** Whom the workers run as (--user, --group, --umask); null: as the master. */
  private readonly identity: Identity | null;
  private readonly pool: Pool;
  private readonly pidFile: PidFile | null;
  /** --ssl: the PEM files, read at start and sent to every worker. */
  private readonly tls: TlsMaterial | null;
  /** Signals, stops asked for by requestStop(), and --reload's file changes, for the next pass. */
  private readonly signals: Array<Signal | Stop | typeof FILE_CHANGED> = [];
  /** --reload: the watcher of the app's folders, and the last file it saw change. */
  private reloader: Reloader | null = null;
  private changedFile = '';
  /** An event came while the loop was not asleep (it was binding, say): the next sleep returns at once. */
  private woken = false;
  private wake: () => void = () => {
    this.woken = true;
  };
  private listeners: BoundListener[] | null = null;
  /** --reuse-port: the sockets of each worker's own (to begin with, a USR2 predecessor's workers'). */
  private readonly workerSockets: WorkerSockets;
  /** The number of workers wanted (--workers, changed by TTIN/TTOU). */
  private target: number;
  private generation = 1;
  private roll: Roll | null = null;
  private readonly stopState = new StopState();
  /** When workers still running are killed, once a stop began. */
  private stopDeadline = Infinity;
  private lastSpawn = 0;
  /** Consecutive workers that died young, the last one's death, and when the next may start. */
  private failures = 0;
  private lastYoungDeath = 0;
  private spawnNotBefore = 0;
  /** Whether the app has loaded in any worker yet: before that, a failure ends the start. */
  private appLoaded = false;
  /** When a first worker was ready to serve (0: none yet). */
  private firstReadyAt = 0;
  /** The banner is shown. */
  private serving = false;
  /** The master this one replaces (USR2): told when this one serves or fails; null if none. */
  private readonly predecessor: number | null;
  /** The descriptors it handed over that it had bound for --reuse-port. */
  private readonly handedOverReusePort: ReadonlySet<number>;
  /** The master starting to replace this one (USR2), until it serves or fails. */
  private successor: Successor | null = null;
  /** What USR2 runs to start a successor: this process's command line, or a daemon's (upgradeCommand()). */
  private successorCommand: MasterCommand = ownCommand();
  /** Why the start failed, once run() has resolved with its exit code (null: it did not fail). */
  failure: string | null = null;
  /** When this master started, and last sent the workers the status page's figures. */
  private readonly startedAt = Date.now();
  private statusSharedAt = 0;
  /** The serving workers' open connections as last passed on to them (shareLoads()). */
  private loadsShared = '';
  private loadsSharedAt = 0;

  constructor(
    private readonly commandLine: CommandLine,
    /** The app module (undefined for -e code and serve()): named in messages, and sent to workers. */
    private readonly appFile: string | undefined,
    entry: WorkerEntry,
    /** Called once the listeners are open and the initial workers serve. */
    private readonly onListening: (listeners: readonly BoundListener[]) => void = () => {},
    spawnWorker: SpawnWorker = forkWorker,
  ) {
    this.options = commandLine.options;
    this.target = this.options.workers;
    this.predecessor = takePredecessor(process.env);
    this.handedOverReusePort = takeReusePortFds(process.env);
    this.workerSockets = new WorkerSockets(takeWorkerSocketFds(process.env).map((set) => set.map(adoptListening)));
    const cwd = process.cwd();
    this.identity = resolveIdentity(this.options);
    if (this.options.errorLog !== undefined) this.openErrorLog(() => this.errorLog.open(resolve(cwd, this.options.errorLog!)));
    this.log = createLogger(this.errorLog, () => `starlight master[${process.pid}]`);
    // A bad format or an access log that cannot be written stops the start here, not in every worker.
    compileAccessFormat(this.options.accessLogFormat, { worker: 0, pid: process.pid });
    this.accessLogFile = this.options.accessLog === undefined || this.options.accessLog === '-' ? null : resolve(cwd, this.options.accessLog);
    if (this.accessLogFile !== null) prepareAccessLogFile(this.accessLogFile, this.identity);
    this.pidFile = this.options.pid === undefined ? null : new PidFile(this.options.pid, cwd);
    const events = { changed: () => this.wake() };
    const output = () => this.errorLog.descriptor;
    // Read now, before anything starts (and before privileges could drop): a missing or mismatched file stops the start.
    this.tls = readTlsMaterial(this.options);
    this.pool = new Pool(entry, { options: this.options, app: appFile, cwd, identity: this.identity, output, tls: this.tls }, events, spawnWorker);
  }

  /** Runs until stopped; resolves with the exit code. */
  async run(): Promise<number> {
    process.title = 'starlight master';
    this.pidFile?.write(this.predecessor ?? undefined);
    for (const signal of masterSignals(process.platform)) {
      process.on(signal, () => {
        this.signals.push(signal);
        this.wake();
      });
    }
    try {
      this.watchForReload();
      for (;;) {
        this.handleSignals();
        this.reap();
        await this.openListeners();
        this.serveBooted();
        this.startServing();
        this.checkHeartbeats();
        this.maintainCount();
        this.stepRoll();
        this.checkSuccessor();
        this.shareStatus();
        this.shareLoads();
        if (this.stopState.stopping !== null) {
          if (this.pool.size === 0) {
            this.log.info('every worker has exited: the master exits');
            return 0;
          }
          this.enforceStopDeadline();
        }
        await this.sleep();
      }
    } catch (error) {
      if (!(error instanceof Fatal)) throw error;
      this.failure = error.message;
      this.errorLog.write(`starlight: ${error.message}\n`);
      // A failed start is also said where it was started from (the log file may not be watched).
      if (!this.errorLog.isStderr()) process.stderr.write(`starlight: ${error.message}\n`);
      this.killAll();
      if (this.predecessor !== null) await tellPredecessor({ type: 'failed', message: error.message });
      return error.exitCode;
    } finally {
      this.reloader?.close();
      for (const listener of this.listeners ?? []) listener.handle.close();
      this.pidFile?.remove();
    }
  }

  private sleep(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const awake = () => {
        clearTimeout(timer);
        this.wake = () => {
          this.woken = true;
        };
        resolve();
      };
      const timer = setTimeout(awake, this.options.mainProcessDelay);
      this.wake = awake;
    });
  }

  // 1. Signals ----------------------------------------------------------------

  private handleSignals(): void {
    for (const signal of this.signals.splice(0)) {
      if (signal === 'graceful' || signal === 'immediate') {
        const stop = this.stopState.begin(signal);
        if (stop !== null) this.stop(stop, 'stop()');
        continue;
      }
      if (isStopSignal(signal)) {
        const stop = this.stopState.signal(signal);
        if (stop !== null) this.stop(stop, signal);
        continue;
      }
      switch (signal) {
        case 'SIGHUP':
          this.startRoll('SIGHUP');
          break;
        case FILE_CHANGED:
          // New code is a new try: the pause after earlier broken saves does not delay it.
          this.spawnNotBefore = 0;
          this.startRoll(`--reload: ${this.changedFile} changed`);
          break;
        case 'SIGTTIN':
          this.target++;
          this.log.info(`SIGTTIN: ${this.target} workers wanted`);
          break;
        case 'SIGTTOU':
          this.target = Math.max(1, this.target - 1);
          this.log.info(`SIGTTOU: ${this.target} workers wanted`);
          break;
        case 'SIGUSR1':
          this.reopenLogs();
          break;
        case 'SIGUSR2':
          this.startUpgrade();
          break;
      }
    }
  }

  /**
   * Log rotation: this process reopens the error log and makes the new access log file (the
   * workers' user's), then tells every worker to reopen its own.
   */
  private reopenLogs(): void {
    try {
      this.openErrorLog(() => this.errorLog.reopen());
      if (this.accessLogFile !== null) prepareAccessLogFile(this.accessLogFile, this.identity);
    } catch (error) {
      this.log.error('SIGUSR1: the logs stay where they were', error);
      return;
    }
    this.log.info('SIGUSR1: log files reopened; the workers reopen theirs');
    for (const worker of this.pool.list()) if (worker.reachable) worker.send({ type: 'reopen-logs' });
  }

  /** Opens (or reopens) the error log, as the workers' user's file when they run as another one. */
  private openErrorLog(open: () => void): void {
    open();
    const { uid = null, gid = null } = this.identity ?? {};
    if ((uid !== null || gid !== null) && process.geteuid?.() === 0) this.errorLog.chown(uid ?? -1, gid ?? -1);
  }

  /**
   * Begins `stop`, asked for by `asker` (a signal, or serve()'s stop()); `handedOver`: a successor
   * serves the listeners now, so their socket files stay.
   */
  private stop(stop: Stop, asker: string, handedOver = false): void {
    const graceful = stop === 'graceful';
    const graceMs = this.options.gracefulTimeout;
    this.log.info(stopMessage(asker, stop, graceMs));
    this.stopDeadline = Date.now() + (graceful ? graceMs + EXIT_MARGIN_MS : IMMEDIATE_STOP_MS);
    this.roll = null;
    // Stop accepting: the workers close their copies as they are told to stop, and then new
    // connections are refused (a client can go elsewhere) rather than held unanswered.
    for (const listener of this.listeners ?? []) (handedOver ? closeHandedOver(listener) : listener.handle.close());
    this.listeners = [];
    this.workerSockets.closeAll();
    for (const worker of this.pool.list()) {
      worker.state = WorkerState.STOPPING;
      // Handed over: idle keep-alive connections are not cut under a client about to send (as a roll's retiring workers).
      if (graceful) worker.send({ type: 'stop', graceful: true, closeIdle: !handedOver, graceMs });
      else worker.kill('SIGQUIT');
    }
  }

  private enforceStopDeadline(): void {
    if (Date.now() < this.stopDeadline) return;
    for (const worker of this.pool.list()) {
      if (worker.exit === null) {
        this.log.warn(`${worker.describe()} did not stop in time: killing it`);
        worker.kill('SIGKILL');
      }
    }
    this.stopDeadline = Infinity;
  }

  private killAll(): void {
    for (const worker of this.pool.list()) worker.kill('SIGKILL');
  }

  // 2. Exited workers ---------------------------------------------------------

  private reap(): void {
    if (this.pool.list().some((worker) => worker.state !== WorkerState.BOOTING)) this.appLoaded = true;
    for (const worker of this.pool.list()) {
      if (worker.exit === null) continue;
      this.pool.remove(worker);
      // (Killed, or crashed, with its --reuse-port sockets: kept for its replacement.)
      this.workerSockets.release(worker);
      if (worker.state === WorkerState.STOPPING) continue;
      const { code, signal } = worker.exit;
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      if (!this.appLoaded) {
        throw new Fatal(worker.failure ?? `the first worker ${how} before loading the app`, 1);
      }
      if (worker.failure !== null) this.log.error(`${worker.describe()} cannot serve: ${worker.failure}`);
      else if (!worker.unresponsive) this.log.error(`${worker.describe()} ${how}`);
      if (this.roll?.fresh === worker) {
        this.log.error('the rolling restart stopped: the new workers do not start; the old ones keep serving');
        this.roll = null;
      }
      const now = Date.now();
      if (!this.proven(worker, now)) {
        this.failures++;
        this.lastYoungDeath = now;
        const pause = Math.min(MAX_BACKOFF_MS, 100 * 2 ** (this.failures - 1));
        this.spawnNotBefore = now + pause;
        if (this.failures > 1) this.log.warn(`workers keep dying young: next start in ${pause} ms`);
      }
    }
    // A worker started since the last young death that proves itself ends a crash loop.
    const now = Date.now();
    if (this.failures > 0 && this.pool.list().some((w) => w.startedAt > this.lastYoungDeath && this.proven(w, now))) this.failures = 0;
  }

  /** Whether the worker showed the app serves: it received a request, or stayed up STABLE_AFTER_MS once ready. */
  private proven(worker: WorkerProcess, now: number): boolean {
    return worker.hasServed || (worker.readyAt > 0 && now - worker.readyAt >= STABLE_AFTER_MS);
  }

  // 3. Listeners --------------------------------------------------------------

  /**
   * Binds before any worker starts, or, where the app's exported port/hostname may decide where
   * (no explicit listener), once the first worker has loaded the app.
   */
  private async openListeners(): Promise<void> {
    if (this.listeners !== null) return;
    const booted = this.pool.list().find((worker) => worker.state !== WorkerState.BOOTING && worker.failure === null);
    if (booted === undefined && appMayDecideListeners(this.options, this.commandLine.explicit)) return;
    try {
      if (booted !== undefined) this.options = withAppDefaults(this.commandLine, { port: booted.appPort, hostname: booted.appHostname }, this.appFile ?? '-e');
      this.listeners = await bindListeners(listenSpecs(this.options, this.commandLine.explicit), { ...this.options, reusePortFds: this.handedOverReusePort, fdNames: this.commandLine.fdNames });
    } catch (error) {
      const exitCode = (error as { exitCode?: number }).exitCode ?? 1;
      throw new Fatal((error as Error).message, exitCode);
    }
    // Bound: files the master makes from now on (a reopened log) get --umask too.
    if (this.identity?.umask !== undefined) process.umask(this.identity.umask);
  }

  /**
   * The banner, once every initial worker serves; if some are not ready
   * INITIAL_READY_WAIT_MS after the first was, the server serves with those
   * that are, and says so. (Each worker accepts from the moment it serves:
   * before the first does, a connection waits in the listen backlog.)
   */
  private startServing(): void {
    if (this.serving || this.listeners === null) return;
    const ready = this.pool.inState(WorkerState.READY).length;
    if (ready === 0) return;
    const now = Date.now();
    if (this.firstReadyAt === 0) this.firstReadyAt = now;
    const waited = now - this.firstReadyAt;
    if (ready < this.target && waited < INITIAL_READY_WAIT_MS) return;
    this.serving = true;
    if (ready < this.target) this.log.warn(`${ready} of ${this.target} workers ready ${(waited / 1000).toFixed(1)} s after the first: serving with them`);
    if (!this.options.quiet) for (const listener of this.listeners) this.errorLog.write(banner(listenerShown(listener, this.tls !== null), this.options.workers, ready));
    this.onListening(this.listeners);
    if (this.predecessor !== null) void tellPredecessor({ type: 'ready' });
  }

  /** Stops as TERM (graceful) or QUIT would; run() then resolves. */
  requestStop(graceful: boolean): void {
    this.signals.push(graceful ? 'graceful' : 'immediate');
    this.wake();
  }

  // 4. Booted workers ---------------------------------------------------------

  /**
   * Hands the listeners to workers that loaded the app and lets them serve. Every worker accepts on
   * the master's sockets itself, as many processes on one socket, and the kernel deals the
   * connections: the master keeps its copy open and never polls it, so that a connection waits in
   * the socket's backlog, not refused, while no worker accepts (before the first serves, between a
   * recycled worker and its replacement), and the master spends nothing per connection.
   *
   * --reuse-port's listeners are the exception: each worker gets sockets of its own
   * (worker-sockets.ts), bound here as who started starlight (a port below 1024 binds whatever user
   * the worker runs as), and a rolling restart's new worker gets those of the old one it replaces
   * instead, when that one retires (stepRoll()). The master's own socket for such a listener is
   * bound and never listens: bound, it makes a bad address or a busy port a start error before any
   * worker starts, fixes the port (--port=0) for the workers' sockets, and keeps it while workers
   * come and go; never listening, it takes no share of the connections, which would wait there
   * with no one to accept them.
   */
  private serveBooted(): void {
    if (this.listeners === null) return;
    for (const worker of this.pool.inState(WorkerState.BOOTED)) {
      if (worker.toldToServe) continue;
      worker.toldToServe = true;
      this.sendShared(worker);
      if (this.roll?.fresh !== worker && !this.giveSockets(worker)) continue;
      worker.send({ type: 'serve' });
    }
  }

  /** Sends the worker the listeners that every worker accepts on (all but --reuse-port's). */
  private sendShared(worker: WorkerProcess): void {
    for (const listener of this.listeners ?? []) if (!listener.reusePort) worker.send({ type: 'listener', shared: true }, listener.handle);
  }

  /** --reuse-port: binds and sends the worker its own sockets; if that fails (out of descriptors, say), it dies as one that could not serve. */
  private giveSockets(worker: WorkerProcess): boolean {
    try {
      this.workerSockets.give(worker, this.listeners ?? []);
      return true;
    } catch (error) {
      worker.failure = (error as Error).message;
      worker.kill('SIGKILL');
      return false;
    }
  }

  // 5. Heartbeats -------------------------------------------------------------

  private checkHeartbeats(): void {
    const timeout = this.options.workerTimeout;
    if (timeout === 0) return;
    const now = Date.now();
    for (const worker of this.pool.list()) {
      if (worker.unresponsive || worker.state === WorkerState.STOPPING) continue;
      // Heartbeats come a few times per timeout, from the moment a worker starts (loading included).
      if (now - worker.lastSeen > timeout + heartbeatInterval(this.options.workerTimeout)) {
        worker.unresponsive = true;
        this.log.error(`${worker.describe()} sent no heartbeat for ${((now - worker.lastSeen) / 1000).toFixed(1)} s: killing it`);
        worker.kill('SIGKILL');
      }
    }
  }

  // 6. Worker count -----------------------------------------------------------

  private maintainCount(): void {
    if (this.stopState.stopping !== null) return;
    const now = Date.now();
    const fresh = this.roll?.fresh ?? null;
    const counted = () => this.pool.list().filter((worker) => worker.counted && worker !== fresh);
    // Replacements and new workers, paced by --spawn-interval and the crash-loop backoff.
    while (counted().length < this.target && now >= this.spawnNotBefore) {
      if (now - this.lastSpawn < this.options.spawnInterval) break;
      this.lastSpawn = now;
      this.pool.spawn(this.generation);
    }
    // Retired workers accept nothing more: they are told to stop (their replacements were spawned above).
    for (const worker of this.pool.inState(WorkerState.RETIRING)) {
      this.log.info(`${worker.describe()} is recycled: ${worker.retireReason}`);
      this.workerSockets.release(worker);
      this.retire(worker, false);
    }
    // Fewer workers wanted (TTOU): the oldest go, as retiring workers do (their idle keep-alive
    // connections are not cut under a client about to send; each closes after its next response).
    const surplus = counted().length - this.target;
    if (surplus > 0 && this.roll === null) {
      const oldest = counted().sort((a, b) => a.startedAt - b.startedAt).slice(0, surplus);
      for (const worker of oldest) {
        this.workerSockets.close(worker);
        this.retire(worker, false);
      }
    }
    this.workerSockets.trimSpare(this.target);
  }

  /** Stops one worker gracefully; it answers what it has in flight with `Connection: close`. */
  private retire(worker: WorkerProcess, closeIdle: boolean): void {
    worker.state = WorkerState.STOPPING;
    worker.send({ type: 'stop', graceful: true, closeIdle, graceMs: this.options.gracefulTimeout });
  }

  // 7. Rolling restart --------------------------------------------------------

  /**
   * --reload (or --reload-dirs alone, as Plack's -R): watches --reload-dirs, or the app's folder
   * (the current one for -e code), and queues a rolling restart (as HUP does) once a burst of
   * changes settles. A folder that cannot be watched stops the start.
   */
  private watchForReload(): void {
    if (!this.options.reload && this.options.reloadDirs.length === 0) return;
    const cwd = process.cwd();
    const dirs = this.options.reloadDirs.length > 0 ? this.options.reloadDirs.map((dir) => resolve(cwd, dir)) : [this.appFile !== undefined && isAbsolute(this.appFile) ? dirname(this.appFile) : cwd];
    this.reloader = new Reloader(
      (file) => {
        this.changedFile = file;
        this.signals.push(FILE_CHANGED);
        this.wake();
      },
      (message) => this.log.warn(`${message}: changes there restart nothing`),
    );
    try {
      this.reloader.watch(dirs);
    } catch (error) {
      throw new Fatal((error as Error).message, 1);
    }
    this.log.info(`--reload: watching ${dirs.join(', ')}`);
  }

  private startRoll(why: string): void {
    if (this.stopState.stopping !== null) return;
    // A roll already under way: its new worker that is not ready yet goes (this roll starts its own);
    // kept, it would be one old worker too many to replace, and a worker too many once done.
    if (this.roll?.fresh) this.retire(this.roll.fresh, false);
    this.generation++;
    const old = this.pool.list().filter((worker) => worker.counted && worker.generation < this.generation);
    this.log.info(`${why}: replacing ${old.length} workers with ones that load the app afresh`);
    this.roll = { old, fresh: null, lastStep: 0 };
  }

  /** One step: start a new worker; once it serves, retire one old worker; at most one per --spawn-interval. */
  private stepRoll(): void {
    const roll = this.roll;
    if (roll === null || this.stopState.stopping !== null) return;
    // Old workers that exited meanwhile (killed, crashed) are replaced by the count, not by the roll.
    roll.old = roll.old.filter((worker) => worker.counted && worker.exit === null);
    if (roll.fresh !== null) {
      if (roll.fresh.state !== WorkerState.READY) return;
      const old = roll.old.shift();
      // Its --reuse-port sockets go on in the new worker: none closes, no queued connection is lost.
      if (old === undefined) this.giveSockets(roll.fresh);
      else {
        this.workerSockets.handOver(old, roll.fresh);
        this.retire(old, false);
      }
      roll.fresh = null;
      roll.lastStep = Date.now();
    }
    if (roll.old.length === 0) {
      this.roll = null;
      this.log.info('rolling restart done');
      return;
    }
    if (Date.now() - roll.lastStep >= this.options.spawnInterval && Date.now() >= this.spawnNotBefore) {
      roll.fresh = this.pool.spawn(this.generation);
      this.lastSpawn = Date.now();
    }
  }

  // 8. USR2 upgrade -----------------------------------------------------------

  /** USR2 runs `command` (a daemon's: the starlight command that started it) instead of this process's own. */
  upgradeCommand(command: MasterCommand): void {
    this.successorCommand = command;
  }

  /** Starts a successor with this master's listeners (not while one starts, nor while stopping). */
  private startUpgrade(): void {
    if (this.stopState.stopping !== null) return;
    if (this.successor !== null) {
      this.log.warn(`SIGUSR2: a new master (pid ${this.successor.pid}) is starting already; ignored`);
      return;
    }
    if (this.listeners === null || !this.serving) {
      this.log.warn('SIGUSR2: this master does not serve yet; ignored');
      return;
    }
    this.successor = new Successor(this.successorCommand, this.listeners, this.workerSockets.sets, () => this.wake());
    this.log.info(`SIGUSR2: starting a new master (pid ${this.successor.pid}) with the listening sockets; this one serves until it does`);
  }

  private checkSuccessor(): void {
    const outcome = this.successor?.outcome;
    if (outcome === undefined || outcome === null) return;
    const pid = this.successor!.pid;
    this.successor = null;
    if (!outcome.ready) {
      this.log.error(`SIGUSR2: the new master (pid ${pid}) ${outcome.why}; this master keeps serving`);
      try {
        this.pidFile?.write(); // (it may have taken the file over, and removed it as it exited)
      } catch (error) {
        this.log.error('SIGUSR2: cannot write the pid file again', error);
      }
      return;
    }
    if (this.stopState.stopping !== null) return;
    const stop = this.stopState.begin('graceful');
    if (stop !== null) this.stop(stop, `SIGUSR2 (the new master, pid ${pid}, serves)`, true);
  }

  // 9. The status page ---------------------------------------------------------

  /** Once a second (--status-path): every worker gets the figures of all (those that have sent theirs). */
  private shareStatus(): void {
    const now = Date.now();
    if (this.options.statusPath === undefined || now - this.statusSharedAt < STATUS_SHARE_MS) return;
    this.statusSharedAt = now;
    const workers = this.pool.list().filter((worker) => worker.figures !== null && worker.exit === null);
    const table: StatusTable = {
      startedAt: this.startedAt,
      workers: workers.map((worker) => ({ id: worker.id, pid: worker.pid, state: STATE_NAMES[worker.state], startedAt: worker.startedAt, ...worker.figures! })),
    };
    for (const worker of workers) if (worker.reachable) worker.send({ type: 'status', table });
  }

  // 10. Each worker's share ----------------------------------------------------

  /** Tells the serving workers each one's open connections, when they changed (worker/fair-share.ts). */
  private shareLoads(): void {
    const serving = this.pool.inState(WorkerState.READY);
    // A lone worker has no share to keep: it is told so once (no entry), not each count.
    const loads = serving.length < 2 ? [] : serving.map((worker): [number, number] => [worker.id, worker.connections]);
    const shown = loads.join(';');
    const now = Date.now();
    // (A change held back is sent at a pass after LOADS_SHARE_MS: the next report or tick.)
    if (shown === this.loadsShared || now - this.loadsSharedAt < LOADS_SHARE_MS) return;
    this.loadsShared = shown;
    this.loadsSharedAt = now;
    for (const worker of serving) if (worker.reachable) worker.send({ type: 'loads', loads });
  }
}
