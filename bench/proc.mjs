// Processes for bench/run.mjs, every one handled by its pid: pinning with taskset, a free
// port, starting a command, finding a server's serving process, its peak RSS and CPU time, and
// stopping (SIGTERM, then SIGKILL after 5 s to whatever of its tree is left). Nothing
// here signals a process by name.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

const GRACE_MS = 5000;
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100; // /proc's unit of CPU time
const live = new Set(); // pids of the commands started and not stopped yet

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** True when `cmd` can be started (`arg`: an option that makes it exit at once). */
export const hasCommand = (cmd, arg) => !spawnSync(cmd, [arg], { stdio: 'ignore' }).error;

/** CPUs for the client and the server, or null where we cannot pin (no taskset, one CPU). */
export function pinning() {
  return hasCommand('taskset', '-V') && os.cpus().length >= 2 ? { client: 0, server: 1 } : null;
}

/** argv run on `cpu` (all its children too), or as it is when `cpu` is undefined. */
export const onCpu = (cpu, argv) => (cpu === undefined ? argv : ['taskset', '-c', String(cpu), ...argv]);

/** Moves this process (all its threads) to `cpu`. */
export const pinSelf = (cpu) => spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts argv (NODE_ENV=production). Returns { pid, done, output() }: `done` resolves with
 * the exit code (or signal) once it has exited, output() gives the last 4 KiB it printed.
 */
export function start(argv) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
  let out = '';
  const keep = (d) => (out = (out + d).slice(-4096));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  live.add(child.pid);
  const done = new Promise((resolve) => {
    child.once('error', (e) => resolve(e.message));
    child.once('close', (code, signal) => resolve(signal ?? code));
  });
  done.then(() => live.delete(child.pid));
  return { pid: child.pid, done, output: () => out };
}

/** Runs argv to its end, stopped after `limitMs` at the latest; resolves with what it printed. */
export async function run(argv, limitMs) {
  const proc = start(argv);
  const backstop = setTimeout(() => stop(proc.pid), limitMs);
  await proc.done;
  clearTimeout(backstop);
  return proc.output();
}

function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !'ZX'.includes(stat[stat.lastIndexOf(')') + 2]);
  } catch {
    return false;
  }
}

/** The processes `pid` has started and not reaped yet (a master's workers). */
export function childrenOf(pid) {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

const tree = (pid) => [pid, ...childrenOf(pid).flatMap(tree)];

/** The CPU time `pid` has used so far (user + system, /proc/PID/stat fields 14 and 15), in ms; 0 once it is gone. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (the state)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** The process that serves: the starlight worker (the master's child), else `pid` itself. */
export function servingPid(pid) {
  const cmdline = (p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'latin1');
    } catch {
      return '';
    }
  };
  // `taskset` execs its command in place, so `pid` is the server (the master) itself.
  return childrenOf(pid).find((c) => cmdline(c).startsWith('starlight worker')) ?? pid;
}

/** The peak resident set of `pid` so far (VmHWM), in MiB; null once it is gone. */
export function peakRssMiB(pid) {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return Number(m[1]) / 1024;
  } catch {
    return null;
  }
}

/** SIGTERM to `pid`; SIGKILL to each process of its tree still there after 5 s. */
export async function stop(pid) {
  if (!live.has(pid)) return; // exited already: its pid may be another process's by now
  const pids = tree(pid);
  const signal = (p, sig) => {
    try {
      process.kill(p, sig);
    } catch {}
  };
  signal(pid, 'SIGTERM');
  const until = Date.now() + GRACE_MS;
  while (pids.some(alive) && Date.now() < until) await sleep(50);
  for (const p of pids.filter(alive)) signal(p, 'SIGKILL');
  live.delete(pid);
}

/** Stops every command started here that is still running. */
export const stopAll = () => Promise.all([...live].map(stop));
