// Serving a parsed command line: --workers=0 serves in this process,
// otherwise this process becomes the master of forked workers.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isTypeScript, resolveAppFile, typeScriptSupport } from '../app/locate.js';
import type { CommandLine } from '../config/resolve.js';
import { prepareListeners } from '../listen/address.js';
import { masterSignals } from '../config/platform.js';
import { Master } from '../master/master.js';
import { PidFile } from '../master/pidfile.js';
import type { WorkerEntry } from '../master/pool.js';
import { isSuccessor } from '../master/upgrade.js';
import { daemonize } from './daemon.js';

/**
 * Node 22.6–22.17 strip TypeScript types only with a flag: run this command
 * again under it, passing signals on, and end as it ends. (Forked workers get
 * the flag from the master instead.)
 */
function rerunWithTypeStripping(): Promise<never> {
  const child = spawn(process.execPath, ['--experimental-strip-types', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  for (const signal of masterSignals(process.platform)) process.on(signal, () => child.kill(signal));
  return new Promise(() => {
    child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
  });
}

/** The worker entry of the command line, with the Node flags a TypeScript app needs. */
function commandLineWorkerEntry(appFile: string | undefined): WorkerEntry {
  const execArgv = process.execArgv.filter((arg) => !/^--(inspect|debug)/.test(arg));
  if (appFile !== undefined && isTypeScript(appFile) && typeScriptSupport() === 'with-flag') execArgv.push('--experimental-strip-types');
  return { module: fileURLToPath(new URL('../worker/main.js', import.meta.url)), args: [], execArgv };
}

/** The master for a command line; `onListening` once it serves. */
export function commandLineMaster(commandLine: CommandLine, onListening?: () => void): Master {
  const appFile = commandLine.options.eval === undefined ? resolveAppFile(commandLine.app, process.cwd()) : undefined;
  return new Master(commandLine, appFile, commandLineWorkerEntry(appFile), onListening);
}

/** The Node flags that this process needs to run the app itself (--workers=0): Node's own, plus type stripping for a TypeScript app where it takes a flag. */
export function soloExecArgv(commandLine: CommandLine): string[] {
  const typeScript = commandLine.options.eval === undefined && isTypeScript(resolveAppFile(commandLine.app, process.cwd()));
  return typeScript && typeScriptSupport() === 'with-flag' ? [...process.execArgv, '--experimental-strip-types'] : [...process.execArgv];
}

export async function run(commandLine: CommandLine): Promise<void> {
  prepareListeners(commandLine, process.env, process.pid, process.version);
  process.env.NODE_ENV = commandLine.options.env;
  // A USR2 successor of a daemon is detached already: it serves in the foreground of its session.
  if (commandLine.options.daemonize && !isSuccessor(process.env)) await daemonize(commandLine, soloExecArgv(commandLine));
  if (commandLine.options.workers > 0) process.exit(await commandLineMaster(commandLine).run());
  if (commandLine.options.eval === undefined && isTypeScript(resolveAppFile(commandLine.app, process.cwd())) && typeScriptSupport() === 'with-flag') {
    await rerunWithTypeStripping();
  }
  await serveAlone(commandLine);
}

/** --workers=0: this process writes the pid file (removed as it exits), then serves; resolves once serving. */
export async function serveAlone(commandLine: CommandLine): Promise<void> {
  if (commandLine.options.pid !== undefined) {
    const pidFile = new PidFile(commandLine.options.pid, process.cwd());
    pidFile.write();
    process.on('exit', () => pidFile.remove());
  }
  // Loaded only here: a master never loads the serving stack (nor the Fetch classes it brings).
  const { serveInProcess } = await import('../worker/solo.js');
  await serveInProcess(commandLine);
}
