// What the operating system allows (docs/deploy.md, Platforms): which listeners, options and
// signals starlight has on Linux, macOS and Windows. Each function takes the platform (a value of
// process.platform) as a parameter, so that every answer can be checked on any machine; the
// callers pass process.platform where the decision is acted on (binding, dropping privileges,
// detaching, subscribing to signals).
import type { ListenSpec } from './listen.js';
import { SIGNALS, type Signal } from './signals.js';

/** Why `spec` cannot be listened on under `platform`, or null when it can. */
export function listenerRefusal(spec: ListenSpec, platform: NodeJS.Platform): string | null {
  if (spec.kind === 'unix' && spec.path.startsWith('\0') && platform !== 'linux') return 'abstract sockets (@NAME) exist only on Linux';
  if (spec.kind === 'unix' && platform === 'win32') {
    return 'UNIX sockets are not supported on Windows (Node makes a path there a named pipe, which starlight does not hand to workers): listen on TCP';
  }
  if (spec.kind === 'fd' && platform === 'win32') return 'inherited descriptors (fd://N, LISTEN_FDS, SERVER_STARTER_PORT) exist only on Linux and other POSIX systems';
  return null;
}

/** Why --reuse-port cannot be honoured under `platform`, or null when it can. */
export function reusePortRefusal(platform: NodeJS.Platform): string | null {
  return platform === 'linux' ? null : `--reuse-port works only on Linux (only its SO_REUSEPORT deals connections over the sockets); this is ${platform}`;
}

/** Why --user/--group cannot be honoured under `platform`, or null when they can. */
export function identityRefusal(platform: NodeJS.Platform): string | null {
  return platform === 'win32' ? '--user and --group: Windows has no POSIX users and groups; start starlight as the account it should serve as' : null;
}

/** Why -D cannot be honoured under `platform`, or null when it can. */
export function daemonRefusal(platform: NodeJS.Platform): string | null {
  return platform === 'win32' ? '-D: Windows has no POSIX sessions to detach into; run starlight under a service manager instead' : null;
}

/**
 * The signals the master subscribes to under `platform`. Windows delivers none of them from
 * another process (Node's process.kill() ends a process there at once), and raises SIGHUP when
 * the console closes, moments before it ends the process: there the master acts on INT alone
 * (Ctrl-C in its console): a graceful stop.
 */
export function masterSignals(platform: NodeJS.Platform): readonly Signal[] {
  return platform === 'win32' ? ['SIGINT'] : SIGNALS;
}
