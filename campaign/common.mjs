// What the exhaust, fuzz and faults scripts share: starting starlight so that
// every server is stopped by its pid at the end and on Ctrl-C, the servers'
// processes as Linux shows them (CPU time, resident memory), and the machine
// line each table is written with. Servers are the test helpers' (startServer),
// on 127.0.0.1 only.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { livePids } from '../test/helpers/proc.mjs';
import { startServer } from '../test/helpers/server.mjs';

const running = new Set();
const children = new Set();

/** Stops every server still running (the master by its pid, then its workers by theirs), and every other child by its pid. */
export async function stopAll() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.all([...running].map((server) => server.stop({ timeoutMs: 3000 }).catch(() => {})));
  running.clear();
}

/** A child process (not a server) to be stopped with the servers. */
export function own(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

process.once('SIGINT', () => {
  process.stderr.write('\ninterrupted: stopping the servers\n');
  stopAll().finally(() => process.exit(130));
});

/** startServer(), remembered until stopped, so that stopAll() and Ctrl-C stop it. */
export async function serve(args, opts = {}) {
  const server = await startServer(args, { timeoutMs: 15000, ...opts });
  running.add(server);
  const stop = server.stop.bind(server);
  server.stop = (options) => stop(options).finally(() => running.delete(server));
  return server;
}

/** Runs `main(summary)`, then stops every server and prints the summary (its exit status too). */
export async function run(summary, main) {
  try {
    await main(summary);
  } catch (error) {
    process.stderr.write(`${error.stack ?? error}\n`);
    summary.add('script ran to its end', String(error.message ?? error).split('\n')[0], 'no error', false);
  } finally {
    await stopAll();
    summary.finish();
  }
}

const TICK = 100; // USER_HZ: /proc's clock ticks per second on Linux

/** CPU time (user + system) of `pid` in seconds, or 0 when it is gone. */
export function cpuSeconds(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return 0;
  }
}

/** Resident memory of `pid` in bytes (VmRSS), or 0 when it is gone. */
export function rssBytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match === null ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/** The master and its live workers. */
export const serverPids = (server) => [server.pid, ...livePids(server.pid)];

/** Samples the peak RSS of `pid` every `everyMs` until stop() (which returns the peak in bytes). */
export function watchRss(pid, everyMs = 50) {
  let peak = rssBytes(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssBytes(pid));
    },
  };
}

/** The soft limit on open files of this process. */
export function openFileLimit() {
  const match = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'latin1'));
  return match === null || match[1] === 'unlimited' ? Infinity : Number(match[1]);
}

export const MiB = 1024 * 1024;
export const mib = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;
export const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
export const ms = (value) => `${Math.round(value)} ms`;

/** The machine and Node, for the heading of a table. */
export const machine = () => `${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;

/** The value of `--name=VALUE` among the arguments, or undefined. */
export function option(argv, name) {
  const prefix = `--${name}=`;
  return argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}
