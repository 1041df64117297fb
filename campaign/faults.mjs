// Master faults: what happens to starlight when its master or its files fail.
//
//   SIGKILL      the master of --workers killed outright, --rounds times:
//                every worker notices and exits (the time is measured), and
//                nothing keeps the port: it can be bound again
//   second master  one started on the --pid file of a running one, and one on
//                its UNIX --socket: refused with a clear message, the first
//                keeps serving
//   full disk    --access-log, then --error-log, on a full 64 KiB tmpfs (as
//                root that may mount; else on /dev/full, which fails every
//                write the same way): requests are still answered, and stderr
//                says the log cannot be written
//   read-only    the --access-log's folder made read-only (a read-only tmpfs
//                mounted over it, as root; else the file's mode) and the logs
//                reopened (USR1): the server goes on, stderr says why; and a
//                start on a read-only log is refused with a clear message
//
//   npm run faults -- [--rounds=5] [--workers=2] [--requests=100]

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, get, livePids, readPid } from '../test/helpers/process.mjs';
import { isAlive } from '../test/helpers/proc.mjs';
import { freePort, waitAccepting } from '../test/helpers/ports.mjs';
import { sleep, waitFor } from '../test/helpers/wait.mjs';
import { machine, ms, option, run, serve } from './common.mjs';
import { Summary, countArgument } from './summary.mjs';

const argv = process.argv.slice(2);
const ROUNDS = countArgument(option(argv, 'rounds'), 5);
const WORKERS = countArgument(option(argv, 'workers'), 2);
const REQUESTS = countArgument(option(argv, 'requests'), 100);
const WORKERS_GONE_MS = 5000;
const dir = mkdtempSync(join(tmpdir(), 'starlight-faults-'));
const mounts = [];
/** The app, a file of its own (-e would write one in the working directory, which may not be ours to write). */
const APP = [join(dir, 'app.mjs')];
writeFileSync(APP[0], 'export default { fetch: () => new Response("ok " + process.pid) };\n');
/** Whether this process may mount a tmpfs (root, with the right to mount). */
const ROOT = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    tmpfs('probe', '4k');
    return true;
  } catch {
    return false;
  }
})();
const summary = new Summary(`faults: ${ROUNDS} master kills of ${WORKERS} workers, a second master, ${REQUESTS} requests on a full disk and a read-only log${ROOT ? '' : ' (no tmpfs mounts here, not root: /dev/full and file modes)'} (${machine()})`);
run(summary, async () => {
  try {
    await masterKill();
    await secondMaster();
    await fullDisk('--access-log');
    await fullDisk('--error-log');
    await readOnlyLog();
  } finally {
    for (const mount of mounts.reverse()) execFileSync('umount', [mount]);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A tmpfs of `size` mounted at a new folder under `dir` (root only). */
function tmpfs(name, size, ...more) {
  const path = join(dir, name);
  execFileSync('mkdir', ['-p', path]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', [`size=${size}`, ...more].join(','), 'tmpfs', path]);
  mounts.push(path);
  return path;
}

/** Whether 127.0.0.1:port can be listened on now. */
function bindable(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `n` GETs on new connections; resolves how many got a 200. */
async function answered(port, n) {
  let ok = 0;
  for (let i = 0; i < n; i++) ok += await get(port, '/', 5000).then((r) => (r.status === 200 ? 1 : 0), () => 0);
  return ok;
}

async function masterKill() {
  const times = [];
  let orphans = 0;
  let portHeld = 0;
  const held = [];
  const listeners = [];
  for (let round = 0; round < ROUNDS; round++) {
    const server = await serve([`--workers=${WORKERS}`, ...APP]);
    const workers = await waitFor(() => livePids(server.pid).length === WORKERS && livePids(server.pid), { timeoutMs: 10000, message: 'the workers' });
    await get(server.port);
    const killed = performance.now();
    server.kill('SIGKILL');
    const gone = await waitFor(() => workers.every((pid) => !isAlive(pid)), { timeoutMs: WORKERS_GONE_MS, intervalMs: 5, message: 'the workers exiting' }).then(() => true, () => false);
    times.push(performance.now() - killed);
    if (!gone) orphans += workers.filter(isAlive).length;
    // Nothing listens on the port any more, and it can be bound again (unless,
    // on a busy machine, a client elsewhere took it as its own port since: ss shows that).
    const listening = execFileSync('ss', ['-Hltn', `sport = :${server.port}`], { encoding: 'utf8' }).trim();
    if (listening !== '') listeners.push(listening.replace(/\s+/g, ' '));
    if (!(await bindable(server.port))) {
      portHeld++;
      held.push(`port ${server.port}: ${execFileSync('ss', ['-Htanp', `sport = :${server.port} or dport = :${server.port}`], { encoding: 'utf8' }).trim().replace(/\s+/g, ' ') || 'no socket'}`);
    }
    await server.stop();
  }
  const sorted = [...times].sort((a, b) => a - b);
  summary.add(`SIGKILL of the master: workers exited after (${ROUNDS} rounds, ${WORKERS} workers)`, `median ${ms(sorted[Math.floor(sorted.length / 2)])}, max ${ms(sorted[sorted.length - 1])}`, `all within ${ms(WORKERS_GONE_MS)}`, orphans === 0);
  summary.add('SIGKILL of the master: a socket still listening on the port', listeners.length === 0 ? 'none' : listeners.join('; '), 'none, every time', listeners.length === 0);
  // A port held only by other connections (no listener: see the row above) is no orphan of ours.
  summary.add('SIGKILL of the master: the port can be bound again', `${ROUNDS - portHeld} of ${ROUNDS}${held.length > 0 ? ` (${held.join('; ')})` : ''}`, 'every time but while a client elsewhere holds it', held.every((line) => !/LISTEN/.test(line)));
}

async function secondMaster() {
  const pidFile = join(dir, 'starlight.pid');
  const first = await serve([`--workers=${WORKERS}`, `--pid=${pidFile}`, ...APP]);
  const second = await serve(['--workers=1', `--pid=${pidFile}`, ...APP], { wait: 'banner-or-exit' });
  await second.exited;
  const message = second.stderr.trim().split('\n').pop() ?? '';
  summary.add('second master on the same --pid: refused', `exit ${second.exit.code}: ${JSON.stringify(message)}`, 'non-zero exit, "already running"', second.exit.code !== 0 && /already running/.test(message));
  const stillFirst = readPid(pidFile) === first.pid && (await answered(first.port, 10)) === 10;
  summary.add('second master on the same --pid: the first serves on', stillFirst ? 'pid file names it, 10 of 10 answered' : 'no', 'yes', stillFirst);
  await first.stop();

  const socket = join(dir, 'starlight.sock');
  const one = await serve([`--workers=${WORKERS}`, `--socket=${socket}`, ...APP], { listen: false, wait: 'none' });
  await waitFor(() => one.stderr.includes('Accepting connections'), { timeoutMs: 15000, message: () => `the banner; stderr: ${one.stderr}` });
  const two = await serve(['--workers=1', `--socket=${socket}`, ...APP], { listen: false, wait: 'banner-or-exit' });
  await two.exited;
  const refusal = two.stderr.trim().split('\n').pop() ?? '';
  summary.add('second master on the same --socket: refused', `exit ${two.exit.code}: ${JSON.stringify(refusal)}`, 'non-zero exit, naming the socket', two.exit.code !== 0 && refusal.includes(socket));
  let ok = 0;
  for (let i = 0; i < 10; i++) {
    const client = await Client.open(socket);
    ok += (await client.request('/', { close: true }).then((r) => r.status === 200, () => false)) ? 1 : 0;
    client.destroy();
  }
  summary.add('second master on the same --socket: the first serves on', `${ok} of 10 answered`, 'all', ok === 10);
  await one.stop();
}

/** The server with `option` on a full disk: still answering, and saying so on stderr. */
async function fullDisk(option) {
  let file;
  if (ROOT) {
    const mount = tmpfs(`full${option}`, '64k');
    file = join(mount, 'log');
    writeFileSync(file, '');
    try {
      writeFileSync(join(mount, 'filler'), Buffer.alloc(128 * 1024));
    } catch {
      // full now
    }
  } else {
    file = '/dev/full';
  }
  // With --error-log the banner goes to the file: wait for the port instead.
  const port = await freePort();
  const server = await serve([`--port=${port}`, `--workers=${WORKERS}`, `${option}=${file}`, ...APP], { listen: false, wait: 'none' });
  server.child.stderr.resume();
  await waitAccepting(port, { exited: () => server.exit && `starlight exited: ${server.stderr}`, what: 'the server' });
  await sleep(200);
  const ok = await answered(port, REQUESTS);
  await sleep(200);
  const said = server.stderr.split('\n').find((line) => line.includes(`${option} ${file}: cannot write`));
  summary.add(`full disk under ${option}: requests answered`, `${ok} of ${REQUESTS}`, 'all', ok === REQUESTS);
  summary.add(`full disk under ${option}: stderr says so`, said === undefined ? `nothing (stderr: ${JSON.stringify(server.stderr.slice(-300))})` : JSON.stringify(said.replace(/\[\d+\]/, '')), 'a "cannot write" line naming the log', said !== undefined);
  await server.stop();
}

async function readOnlyLog() {
  const folder = join(dir, 'logs');
  execFileSync('mkdir', ['-p', folder]);
  const file = join(folder, 'access.log');
  const server = await serve([`--workers=${WORKERS}`, `--access-log=${file}`, ...APP]);
  await answered(server.port, 5);
  // The log's folder becomes read-only; log rotation opens the file again by its name.
  if (ROOT) {
    writeFileSync(file, ''); // the file the mount will show
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', folder]);
    mounts.push(folder);
  } else {
    rmSync(file);
    writeFileSync(file, '');
    chmodSync(file, 0o444);
  }
  server.kill('SIGUSR1');
  await sleep(1000);
  const ok = await answered(server.port, REQUESTS);
  const said = server.stderr.split('\n').find((line) => /EROFS|EACCES|EPERM/.test(line) && line.includes(file));
  summary.add('read-only --access-log reopened (USR1): requests answered', `${ok} of ${REQUESTS}`, 'all', ok === REQUESTS && server.exit === null);
  summary.add('read-only --access-log reopened (USR1): stderr says so', said === undefined ? `nothing (stderr: ${JSON.stringify(server.stderr.slice(-300))})` : JSON.stringify(said.replace(/^\S+ /, '')), 'a line naming the log and the error', said !== undefined);
  await server.stop();
  const refused = await serve(['--workers=1', `--access-log=${file}`, ...APP], { wait: 'banner-or-exit' });
  await refused.exited;
  const message = refused.stderr.trim().split('\n').pop() ?? '';
  summary.add('a start on a read-only --access-log: refused', `exit ${refused.exit.code}: ${JSON.stringify(message)}`, 'non-zero exit naming the log', refused.exit.code !== 0 && message.includes(file));
}
