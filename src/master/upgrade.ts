// USR2, the zero-downtime upgrade, from both ends. The old master starts its
// successor: the same command line run again (Node, its flags, the script
// and its arguments, the same working directory and environment), so that
// whatever is on disk now (new starlight, new app, new options) is what
// runs. A daemon's (-D) is the command that started it: the successor is
// detached already, so it serves in the foreground of its own session
// (isSuccessor() makes the command skip -D), with --pid and --error-log
// read from the same arguments in the same working directory. Its listening sockets go down as descriptors from 4 on, named by
// STARLIGHT_INHERITED_FDS; prepareListeners (listen/address.ts) makes them
// the successor's only listeners, in place of the ones its arguments name,
// which are bound already. (Not systemd's LISTEN_FDS: its LISTEN_PID must
// be the new pid, unknown before the spawn, and those sockets add to the
// listeners where these replace them.) STARLIGHT_REUSE_PORT_FDS names those
// of them bound for --reuse-port, and STARLIGHT_WORKER_SOCKET_FDS the old
// workers' own --reuse-port sockets (master/worker-sockets.ts; one set per
// worker, separated by `;`), which the new workers take over, so that none
// closes as the old workers stop. STARLIGHT_PREDECESSOR names the old master,
// whose pid file the successor takes over.
//
// The successor is detached, in a session of its own: it outlives the old
// master, and a terminal's Ctrl-C or hangup aimed at the old master's group
// does not reach it; from then on it is addressed by its pid (the pid file).
// Over an IPC channel (descriptor 3) it answers `ready` once its workers
// serve, or `failed` with why; only then does the old master retire
// (gracefully), and if the successor fails or exits first the old one keeps
// serving.

import { spawn, type ChildProcess } from 'node:child_process';
import type { BoundListener, ListenHandle } from '../listen/bind.js';

/** What the successor says to its predecessor. */
export type Succession = { type: 'ready' } | { type: 'failed'; message: string };

/** The first descriptor of the handed-over sockets (0-2 are stdio, 3 the IPC channel). */
const FIRST_INHERITED_FD = 4;

/** A command that runs a master: Node's flags, then the script and its arguments. */
export interface MasterCommand {
  execArgv: string[];
  args: string[];
}

/** This process's own command line. */
export function ownCommand(): MasterCommand {
  return { execArgv: [...process.execArgv], args: process.argv.slice(1) };
}

/** The successor as its predecessor sees it: its pid, and how its start ended once it did. */
export class Successor {
  /** null while it starts; then 'ready', or why it failed. */
  outcome: { ready: true } | { ready: false; why: string } | null = null;
  private readonly child: ChildProcess;

  /**
   * Spawns the successor, running `command`, with `listeners` and the workers' own --reuse-port
   * sockets (`workerSockets`, a set per worker); `changed` is called when its outcome is known.
   */
  constructor(command: MasterCommand, listeners: readonly BoundListener[], workerSockets: readonly (readonly ListenHandle[])[], changed: () => void) {
    const inherited = (chosen: (listener: BoundListener) => boolean) =>
      listeners.flatMap((listener, index) => (chosen(listener) ? [FIRST_INHERITED_FD + index] : [])).join(',');
    let next = FIRST_INHERITED_FD + listeners.length;
    const sets = workerSockets.map((set) => set.map(() => next++).join(','));
    const fds = [...listeners.map((listener) => listener.handle), ...workerSockets.flat()].map((handle) => handle.fd);
    const env = {
      ...process.env,
      STARLIGHT_INHERITED_FDS: inherited(() => true),
      STARLIGHT_REUSE_PORT_FDS: inherited((listener) => listener.reusePort),
      STARLIGHT_WORKER_SOCKET_FDS: sets.join(';'),
      STARLIGHT_PREDECESSOR: String(process.pid),
    };
    this.child = spawn(process.execPath, [...command.execArgv, ...command.args], {
      cwd: process.cwd(),
      env,
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...fds],
      serialization: 'json',
    });
    let failure: string | null = null;
    const settle = (outcome: NonNullable<Successor['outcome']>) => {
      if (this.outcome !== null) return;
      this.outcome = outcome;
      this.child.removeAllListeners();
      if (this.child.connected) this.child.disconnect();
      this.child.unref();
      changed();
    };
    this.child.on('message', (message: Succession) => {
      if (message.type === 'ready') settle({ ready: true });
      else failure = message.message;
    });
    this.child.on('exit', (code, signal) => {
      const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
      settle({ ready: false, why: `${how} before serving${failure === null ? ' (its error output says why)' : `: ${failure}`}` });
    });
    this.child.on('error', (error) => settle({ ready: false, why: `cannot start: ${error.message}` }));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
}

/** Whether this process is a USR2 successor (it is detached already: -D does not apply to it). */
export function isSuccessor(env: Record<string, string | undefined>): boolean {
  return env['STARLIGHT_PREDECESSOR'] !== undefined && process.send !== undefined;
}

/**
 * In a successor: the old master's pid (and STARLIGHT_PREDECESSOR is taken out of `env`, so that
 * workers do not see it); null in a master started otherwise.
 */
export function takePredecessor(env: Record<string, string | undefined>): number | null {
  const pid = Number.parseInt(env['STARLIGHT_PREDECESSOR'] ?? '', 10);
  delete env['STARLIGHT_PREDECESSOR'];
  return Number.isInteger(pid) && pid > 0 && process.send !== undefined ? pid : null;
}

/** In a successor: the handed-over descriptors bound for --reuse-port (STARLIGHT_REUSE_PORT_FDS, taken out of `env`). */
export function takeReusePortFds(env: Record<string, string | undefined>): Set<number> {
  const fds = env['STARLIGHT_REUSE_PORT_FDS'] ?? '';
  delete env['STARLIGHT_REUSE_PORT_FDS'];
  return new Set(fds.split(',').filter((fd) => /^[0-9]+$/.test(fd)).map(Number));
}

/** In a successor: the old workers' --reuse-port sockets, a set of descriptors per worker (STARLIGHT_WORKER_SOCKET_FDS, taken out of `env`). */
export function takeWorkerSocketFds(env: Record<string, string | undefined>): number[][] {
  const sets = env['STARLIGHT_WORKER_SOCKET_FDS'] ?? '';
  delete env['STARLIGHT_WORKER_SOCKET_FDS'];
  return sets
    .split(';')
    .map((set) => set.split(',').filter((fd) => /^[0-9]+$/.test(fd)).map(Number))
    .filter((set) => set.length > 0);
}

/** In a successor: tells the old master how the start went, then closes the channel. */
export function tellPredecessor(succession: Succession): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send?.(succession, undefined, undefined, () => {
      process.disconnect();
      resolve();
    });
  });
}
