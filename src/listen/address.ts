// What to listen on: the `--listen` specs, `--socket`, and `--host`/`--port`, as ListenSpecs
// (their grammar is config/listen.ts), and the sockets a process manager hands down (systemd's
// socket activation, Server::Starter), which become `fd://N` specs. Pure but for taking the
// handing-down variables out of the environment: binding is bind.ts's job.

import type { Options } from '../config/options.js';
import { reusePortRefusal } from '../config/platform.js';
import { ListenSpecError, parseListenSpec, type ListenSpec } from '../config/listen.js';
import type { CommandLine } from '../config/resolve.js';

/**
 * The listeners of a run (SPEC §1.3): every --listen and --socket, and --host/--port's own when
 * either was given (`explicit`); without any of them, the default port. An app's own port is a
 * default: it decides the port of that default listener, and adds none.
 */
export function listenSpecs(options: Pick<Options, 'listen' | 'socket' | 'host' | 'port'>, explicit: ReadonlySet<keyof Options>): ListenSpec[] {
  const specs = options.listen.map(parseListenSpec);
  if (options.socket !== undefined) specs.push(parseListenSpec(options.socket.includes('/') || options.socket.startsWith('@') ? options.socket : `unix:${options.socket}`));
  if (specs.length === 0 || explicit.has('host') || explicit.has('port')) specs.unshift({ kind: 'tcp', host: options.host, port: options.port });
  return specs;
}

/**
 * Whether the app's exported port or hostname may decide the listeners (listenSpecs with the
 * app's defaults): only where the --host/--port listener is among them and one of the two was not
 * given. Otherwise the listeners are known before any app code is loaded.
 */
export function appMayDecideListeners(options: Pick<Options, 'listen' | 'socket'>, explicit: ReadonlySet<keyof Options>): boolean {
  const ownListenersOnly = (options.listen.length > 0 || options.socket !== undefined) && !explicit.has('host') && !explicit.has('port');
  return !ownListenersOnly && !(explicit.has('host') && explicit.has('port'));
}

/** The first descriptor systemd passes (SD_LISTEN_FDS_START). */
const SD_LISTEN_FDS_START = 3;

/** Sockets handed down by a process manager: their `fd://N` specs, and the names systemd gave some (by descriptor). */
export interface InheritedSockets {
  specs: string[];
  names: Map<number, string>;
}

/**
 * The listening sockets handed down to this process: systemd's socket activation (`LISTEN_FDS`
 * descriptors from 3, when `LISTEN_PID` names this process, as sd_listen_fds reads them, with
 * their names from `LISTEN_FDNAMES`, colon-separated, one for each) and Server::Starter
 * (`SERVER_STARTER_PORT`: `PORT=FD` or `HOST:PORT=FD`, several separated by `;`). The variables
 * that handed them are removed from `env`, so that the processes this one starts do not take the
 * sockets for theirs.
 */
export function takeInheritedSockets(env: Record<string, string | undefined>, pid: number): InheritedSockets {
  const specs: string[] = [];
  const names = new Map<number, string>();
  const count = env['LISTEN_FDS'];
  if (env['LISTEN_PID'] === String(pid) && count !== undefined && count !== '') {
    if (!/^[0-9]+$/.test(count)) throw new ListenSpecError(`LISTEN_FDS=${count}: expected a number of descriptors`);
    const named = env['LISTEN_FDNAMES']?.split(':');
    if (named !== undefined && named.length !== Number(count)) {
      throw new ListenSpecError(`LISTEN_FDNAMES=${env['LISTEN_FDNAMES']}: names ${named.length} descriptors, LISTEN_FDS=${count} (one name each, separated by :)`);
    }
    for (let index = 0; index < Number(count); index++) {
      const fd = SD_LISTEN_FDS_START + index;
      specs.push(`fd://${fd}`);
      if (named?.[index]) names.set(fd, named[index]);
    }
    for (const name of ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']) delete env[name];
  }
  const starter = env['SERVER_STARTER_PORT'];
  if (starter !== undefined && starter !== '') {
    for (const item of starter.split(';').filter((item) => item !== '')) {
      const fd = /=([0-9]+)$/.exec(item)?.[1];
      if (fd === undefined) throw new ListenSpecError(`SERVER_STARTER_PORT=${starter}: expected PORT=FD or HOST:PORT=FD items separated by ;`);
      specs.push(`fd://${fd}`);
    }
    delete env['SERVER_STARTER_PORT'];
  }
  return { specs, names };
}

/** Whether this Node binds a TCP socket with SO_REUSEPORT (`listen({ reusePort })`: 22.12 and 23.1 on). */
function nodeHasReusePort(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** Refuses, as a usage error, the listening options this process cannot honour: --reuse-port off Linux, or on a Node whose listen() cannot set it. */
export function refuseUnsupportedListening(options: Pick<Options, 'reusePort'>, nodeVersion: string, platform: NodeJS.Platform): void {
  if (!options.reusePort) return;
  const refusal = reusePortRefusal(platform);
  if (refusal !== null) throw new ListenSpecError(refusal);
  if (!nodeHasReusePort(nodeVersion)) {
    throw new ListenSpecError(`--reuse-port needs Node 22.12 or later (23.1 or later on Node 23); this is Node ${nodeVersion}`);
  }
}

/**
 * The sockets a master being replaced (USR2, master/upgrade.ts) handed down, as `fd://N` specs
 * (STARLIGHT_INHERITED_FDS, taken out of `env`); null where none were.
 */
export function takeHandedOverSockets(env: Record<string, string | undefined>): string[] | null {
  const fds = env['STARLIGHT_INHERITED_FDS'];
  delete env['STARLIGHT_INHERITED_FDS'];
  if (fds === undefined || fds === '') return null;
  if (!/^[0-9]+(,[0-9]+)*$/.test(fds)) throw new ListenSpecError(`STARLIGHT_INHERITED_FDS=${fds}: expected descriptor numbers separated by ,`);
  return fds.split(',').map((fd) => `fd://${fd}`);
}

/**
 * At the start of a run, in the process that binds (the command's, or serve()'s master): refuses
 * the listening options it cannot honour, and adds the sockets handed down to it to the listeners.
 * Sockets handed over by the master this one replaces are its listeners instead of those the
 * options name (the same ones, bound already).
 */
export function prepareListeners(commandLine: Pick<CommandLine, 'options' | 'explicit' | 'fdNames'>, env: Record<string, string | undefined>, pid: number, nodeVersion: string): void {
  const { options } = commandLine;
  refuseUnsupportedListening(options, nodeVersion, process.platform);
  const handedOver = takeHandedOverSockets(env);
  const inherited = takeInheritedSockets(env, pid);
  if (handedOver === null) {
    options.listen = [...options.listen, ...inherited.specs];
    commandLine.fdNames = inherited.names;
    return;
  }
  options.listen = handedOver;
  options.socket = undefined;
  commandLine.explicit = new Set([...commandLine.explicit].filter((key) => key !== 'host' && key !== 'port'));
}
