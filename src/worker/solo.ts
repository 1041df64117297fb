// --workers=0: the master serves by itself, with no worker to start,
// supervise or replace. It binds, drops privileges (--user, --group,
// --umask), serves, shows the banner, reopens its logs on USR1, and
// stops on a signal as stop-policy.ts says.

import { resolve } from 'node:path';
import { bootApp, type LoadedApp } from '../app/load.js';
import { UsageError, withAppDefaults, type CommandLine } from '../config/resolve.js';
import { listenSpecs } from '../listen/address.js';
import { bindListeners, type BoundListener } from '../listen/bind.js';
import { listenerShown, readTlsMaterial } from '../listen/tls.js';
import { banner } from '../log/banner.js';
import { openAccessLog } from '../log/access-log.js';
import { ErrorLog } from '../log/error-log.js';
import { createLogger } from '../log/logger.js';
import { dropPrivileges, resolveIdentity } from './privileges.js';
import { STOP_SIGNALS, StopState, stopMessage, type Stop, type StopSignal } from './stop-policy.js';
import { createWorker } from './worker.js';

export interface SoloServer {
  readonly listeners: readonly BoundListener[];
  /** Stops serving: gracefully (in-flight requests finish within --graceful-timeout) or at once. */
  stop(graceful: boolean): Promise<void>;
}

/** Serves `app` in this process; `source` names it in messages (its file, or serve()). */
export async function serveSolo(commandLine: CommandLine, app: LoadedApp, source: string): Promise<SoloServer> {
  process.title = 'starlight master';
  const options = withAppDefaults(commandLine, app, source);
  // The roll a change triggers replaces workers: one process alone has none to replace.
  if (options.reload || options.reloadDirs.length > 0) throw new UsageError('--reload needs workers (a master restarts them); with --workers=0 there are none');
  const identity = resolveIdentity(options);
  const errorLog = new ErrorLog();
  if (options.errorLog !== undefined) {
    errorLog.open(resolve(options.errorLog));
    globalThis.console = errorLog.console();
  }
  const log = createLogger(errorLog, () => `starlight[${process.pid}]`);
  const accessLog = openAccessLog(options, process.cwd(), 0);
  process.on('exit', () => accessLog?.flush());
  // Read before privileges drop: a missing or mismatched file stops the start.
  const tls = readTlsMaterial(options);
  const listeners = await bindListeners(listenSpecs(options, commandLine.explicit), { ...options, fdNames: commandLine.fdNames });
  // The app module already ran here, as the user that started starlight (there is no other process to load it).
  if (identity !== null) dropPrivileges(identity);
  const worker = await createWorker({ id: 0, options, app, tls, log, accessLog, retire: null });
  worker.listen(listeners.map((listener) => listener.handle));

  const stopState = new StopState();
  let stopped: Promise<void> = Promise.resolve();
  const begin = (stop: Stop | null): Promise<void> => {
    if (stop === 'graceful') stopped = worker.stop(options.gracefulTimeout, true);
    if (stop === 'immediate') {
      worker.http.destroy();
      worker.stopAccepting();
      stopped = Promise.resolve();
    }
    return stopped;
  };
  const onSignal = (signal: StopSignal) => {
    const stop = stopState.signal(signal);
    if (stop !== null) log.info(stopMessage(signal, stop, options.gracefulTimeout));
    void begin(stop).then(() => process.exit(0));
  };
  for (const signal of Object.keys(STOP_SIGNALS) as StopSignal[]) process.on(signal, () => onSignal(signal));
  process.on('SIGHUP', () => log.warn('SIGHUP ignored: with --workers=0 there are no workers to restart'));
  process.on('SIGUSR2', () => log.warn('SIGUSR2 ignored: with --workers=0 there is no master to hand the sockets over; run with workers for zero-downtime upgrades'));
  process.on('SIGUSR1', () => {
    try {
      errorLog.reopen();
      accessLog?.reopen();
      log.info('SIGUSR1: log files reopened');
    } catch (error) {
      log.error('SIGUSR1: a log stays where it was', error);
    }
  });
  // Shown once the signals are handled: one sent as soon as the banner is seen must not meet Node's default action.
  if (!options.quiet) for (const listener of listeners) errorLog.write(banner(listenerShown(listener, tls !== null), 0));
  return { listeners, stop: (graceful) => begin(stopState.begin(graceful ? 'graceful' : 'immediate')) };
}

/** The command line with --workers=0: load the app module here, then serve it. */
export async function serveInProcess(commandLine: CommandLine): Promise<void> {
  const app = await bootApp({
    app: commandLine.app,
    code: commandLine.options.eval,
    imports: commandLine.options.import,
    cwd: process.cwd(),
    fastClasses: commandLine.options.fastFetch,
  });
  await serveSolo(commandLine, app, app.file);
}
