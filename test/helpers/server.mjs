// The one way a test starts the starlight command: bin/starlight.js as a child
// process, by default on 127.0.0.1 with a port of the system's choosing, told
// by the banner ("Accepting connections at http://HOST:PORT/"). The handle
// keeps the output, and stop() ends the master by its pid (TERM, then KILL),
// then any of its workers still alive by theirs: the workers are noted while
// the master runs, because once it is gone they are nobody's children in /proc.
// Importing this module has no side effect.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childPids, cmdline, isAlive } from './proc.mjs';
import { exitWithin, waitFor } from './wait.mjs';

export const BIN = fileURLToPath(new URL('../../bin/starlight.js', import.meta.url));

const BANNER = /Accepting connections at https?:\/\/(\[[^\]]+\]|[^:/\s]+):(\d+)\//;
/** A worker by its title, or by its entry module before the title is set. */
const WORKER = /starlight worker|worker\/main\.js/;
/** How often the master's children are noted. */
const TRACK_MS = 50;

/** Our environment without what would choose starlight's options or port (STARLIGHT_*, PORT). */
export function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('STARLIGHT_') && name !== 'PORT'));
}

/**
 * Starts starlight.
 * @param {string[]} args  starlight arguments (the app file among them)
 * @param {{ env?: Record<string,string>, cwd?: string, node?: string, bin?: string, launcher?: string[], timeoutMs?: number,
 *   listen?: boolean, wait?: 'banner'|'banner-or-exit'|'none' }} [opts]
 *   env: added to cleanEnv(). node: the Node binary (default this one). bin: the starlight
 *   command's file (default BIN, this checkout's), e.g. a copy installed elsewhere.
 *   launcher: a command that runs starlight's (its argv first, e.g. systemd-socket-activate's
 *   or `ip netns exec NAME`), which becomes starlight's master by exec, so that the pid is the master's.
 *   listen (default true): `--host=127.0.0.1 --port=0` go before `args`; false: `args` exactly.
 *   wait: 'banner' (default) resolves once the first banner line is out, and rejects if the
 *   process exits first or after `timeoutMs` (default 10000; the process is then killed);
 *   'banner-or-exit' resolves on whichever comes first (`serving` says which; after an exit
 *   all of stderr has been read); 'none' resolves at once (a start meant to fail, --quiet).
 * @returns {Promise<{ pid: number, child: import('node:child_process').ChildProcess,
 *   port: number|null, host: string|null, serving: boolean, exit: {code, signal}|null,
 *   exited: Promise<{code, signal}>, stdout: string, stderr: string, url(path?): string,
 *   banners(n, timeoutMs?): Promise<string[]>, kill(signal?): void, stop(opts?): Promise<{code, signal}> }>}
 *   port, host: from the first banner (null before). exit: how it exited (null while running).
 *   banners(n): waits for n banner lines (one per listener) and returns them.
 *   stop({ timeoutMs = 5000 }): TERM, KILL after timeoutMs, then KILL any worker left; resolves the exit.
 */
export async function startServer(args, opts = {}) {
  const { timeoutMs = 10000, listen = true, wait = 'banner' } = opts;
  const [command, ...argv] = [...(opts.launcher ?? []), opts.node ?? process.execPath, opts.bin ?? BIN, ...(listen ? ['--host=127.0.0.1', '--port=0'] : []), ...args];
  const child = spawn(command, argv, {
    cwd: opts.cwd,
    env: { ...cleanEnv(), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let banner = null;
  let exit = null;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    banner ??= BANNER.exec(stderr);
  });
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    }),
  );
  // 'close': exited, and its stderr (shared with its workers) all read.
  const closed = new Promise((resolve) => child.on('close', resolve));

  const workers = new Set();
  const noteWorkers = () => {
    for (const pid of childPids(child.pid)) workers.add(pid);
  };
  const tracking = setInterval(noteWorkers, TRACK_MS).unref();
  exited.then(() => clearInterval(tracking));
  const killWorkersLeft = () => {
    for (const pid of workers) {
      if (isAlive(pid) && WORKER.test(cmdline(pid) ?? '')) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
  };
  const kill = (signal = 'SIGTERM') => {
    if (exit === null) child.kill(signal);
  };

  const server = {
    pid: child.pid,
    child,
    exited,
    get port() {
      return banner === null ? null : Number(banner[2]);
    },
    get host() {
      return banner?.[1] ?? null;
    },
    get serving() {
      return banner !== null;
    },
    get exit() {
      return exit;
    },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    url: (path = '/') => `http://127.0.0.1:${server.port}${path}`,
    banners: (n, ms = 15000) =>
      waitFor(
        () => {
          if (exit !== null) throw new Error(`starlight exited (${exit.code ?? exit.signal}):\n${stderr}`);
          const lines = stderr.split('\n').filter((line) => BANNER.test(line));
          return lines.length >= n ? lines : null;
        },
        { timeoutMs: ms, message: () => `${n} banner lines; stderr:\n${stderr}` },
      ),
    kill,
    async stop({ timeoutMs: graceMs = 5000 } = {}) {
      noteWorkers();
      kill('SIGTERM');
      if ((await exitWithin(exited, graceMs)) === null) kill('SIGKILL');
      const result = await exited;
      killWorkersLeft();
      return result;
    },
  };

  if (wait === 'none') return server;
  let timer;
  const startup = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no banner within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
    child.stderr.on('data', () => {
      if (banner !== null) resolve(server);
    });
    if (wait === 'banner-or-exit') closed.then(() => resolve(server));
    else exited.then(() => reject(new Error(`starlight exited (${exit.code ?? exit.signal}) before its banner; stderr:\n${stderr}`)));
  });
  try {
    return await startup;
  } catch (error) {
    noteWorkers();
    kill('SIGKILL');
    killWorkersLeft();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
