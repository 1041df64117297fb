// What to listen on: the `--listen` specs, `--socket`, and `--host`/`--port`, as ListenSpecs
// (their grammar is config/listen.ts), and sockets handed down by a process manager (refused
// until they are built). Pure: binding is bind.ts's job.

import type { Env, Options } from '../config/options.js';
import { ListenSpecError, parseListenSpec, type ListenSpec } from '../config/listen.js';
import { VERSION } from '../config/version.js';

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
 * Refuses to start where listening sockets are handed down: systemd's socket activation for this
 * process (`LISTEN_FDS` with `LISTEN_PID` naming it, as sd_listen_fds reads them) or
 * Server::Starter (`SERVER_STARTER_PORT`). Until inherited sockets are built, serving a port of
 * our own instead would leave the sockets that were meant to be served unanswered.
 */
export function refuseInheritedSockets(env: Env, pid: number): void {
  const fds = env['LISTEN_FDS'];
  const activated = env['LISTEN_PID'] === String(pid) && fds !== undefined && fds !== '' && fds !== '0';
  const handedDown =
    activated ? `systemd socket activation (LISTEN_FDS=${fds}, LISTEN_PID=${pid})`
    : env['SERVER_STARTER_PORT'] ? `Server::Starter (SERVER_STARTER_PORT=${env['SERVER_STARTER_PORT']})`
    : undefined;
  if (handedDown === undefined) return;
  throw new ListenSpecError(
    `${handedDown} hands this process its listening sockets, but inherited sockets are not available yet ` +
      `in starlight ${VERSION}; not starting, rather than listening anywhere else`,
  );
}
