// -D: the command starts the server as a daemon and tells whether it really
// started. Everything that depends on where the command runs is settled here,
// before detaching: the app file is found (a missing one fails here), and
// every path option is made absolute. The daemon is this program again
// (daemon-main.ts), spawned detached (a new session, no terminal), its stdin
// on /dev/null and its stdout and stderr on the --error-log file (else
// /dev/null); it keeps the working directory, so that the app's packages and
// --import modules resolve from there as in the foreground. It receives the
// command line over an IPC channel and answers `ready` once it serves, or
// `failed` with the error: this process prints that and exits 0, or 1 (or the
// daemon's own code). With --pid, the file names the daemon (the master).
// The daemon also receives this command's own command line: what its USR2
// runs again (master/upgrade.ts; the new master skips -D, detached already).

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveAppFile } from '../app/locate.js';
import type { Options } from '../config/options.js';
import { daemonRefusal } from '../config/platform.js';
import { UsageError, type CommandLine } from '../config/resolve.js';
import { ownCommand, type MasterCommand } from '../master/upgrade.js';
import { decodeOptions, encodeOptions, type WireOptions } from '../worker/protocol.js';

/** The command line as it crosses the IPC channel (JSON). */
export interface WireCommandLine {
  options: WireOptions;
  explicit: (keyof Options)[];
  app: string | undefined;
}

/** Foreground → daemon: what to serve, and the command that asked (USR2 runs it again). Daemon → foreground: the outcome. */
export type ToDaemon = { type: 'serve'; commandLine: WireCommandLine; command: MasterCommand };
export type FromDaemon = { type: 'ready' } | { type: 'failed'; message: string; exitCode: number };

/** Options that name files, made absolute before detaching (an abstract socket, @NAME, is no file). */
const PATH_OPTIONS = ['pid', 'errorLog', 'accessLog', 'socket', 'sslKeyFile', 'sslCertFile', 'sslCaFile', 'sslClientCaFile'] as const;

export function encodeCommandLine(commandLine: CommandLine): WireCommandLine {
  return { options: encodeOptions(commandLine.options), explicit: [...commandLine.explicit], app: commandLine.app };
}

export function decodeCommandLine(wire: WireCommandLine): CommandLine {
  return { action: 'serve', options: decodeOptions(wire.options), explicit: new Set(wire.explicit), app: wire.app };
}

/** The command line the daemon serves: no -D, every path absolute. */
function detachable(commandLine: CommandLine, cwd: string): CommandLine {
  const options: Options = { ...commandLine.options, daemonize: false };
  for (const key of PATH_OPTIONS) {
    const value = options[key];
    if (typeof value === 'string' && !value.startsWith('@') && value !== '-') (options as unknown as Record<string, unknown>)[key] = resolve(cwd, value);
  }
  options.reloadDirs = options.reloadDirs.map((dir) => resolve(cwd, dir));
  const app = options.eval === undefined ? resolveAppFile(commandLine.app, cwd) : undefined;
  return { ...commandLine, options, app };
}

/** Starts the daemon and exits with whether it serves; `execArgv`: the Node flags the daemon needs. */
export function daemonize(commandLine: CommandLine, execArgv: string[]): Promise<never> {
  const refusal = daemonRefusal(process.platform);
  if (refusal !== null) throw new UsageError(refusal);
  const served = detachable(commandLine, process.cwd());
  let output: number | 'ignore' = 'ignore';
  if (served.options.errorLog !== undefined) {
    try {
      output = openSync(served.options.errorLog, 'a');
    } catch (error) {
      throw new Error(`--error-log ${served.options.errorLog}: ${(error as Error).message}`);
    }
  }
  const daemon = spawn(process.execPath, [...execArgv, fileURLToPath(new URL('./daemon-main.js', import.meta.url))], {
    detached: true,
    stdio: ['ignore', output, output, 'ipc'],
    serialization: 'json',
  });
  if (output !== 'ignore') closeSync(output);
  const message: ToDaemon = { type: 'serve', commandLine: encodeCommandLine(served), command: ownCommand() };
  daemon.send(message);
  return new Promise(() => {
    const end = (code: number, text: string) => {
      daemon.removeAllListeners('exit');
      if (daemon.connected) daemon.disconnect();
      daemon.unref();
      (code === 0 ? process.stdout : process.stderr).write(text, () => process.exit(code));
    };
    daemon.on('message', (answer: FromDaemon) => {
      if (answer.type === 'ready') end(0, `starlight: serving as a daemon, pid ${daemon.pid}\n`);
      else end(answer.exitCode, `starlight: ${answer.message}\n`);
    });
    daemon.on('exit', (code, signal) => end(1, `starlight: the daemon ${signal === null ? `exited with code ${code}` : `was killed by ${signal}`} before serving\n`));
    daemon.on('error', (error) => end(1, `starlight: cannot start the daemon: ${error.message}\n`));
  });
}
