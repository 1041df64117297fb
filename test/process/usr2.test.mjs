// SPEC §2, USR2: the master starts starlight again with its listening sockets
// handed over; the new master's workers serve before the old master retires,
// clients sending requests meanwhile see no failure, and --pid names the new
// master. A new master that cannot start (its app no longer loads) leaves the
// old one serving, which says why. The new master is not this test's child: it
// is found by its pid (the pid file, the old master's log) and stopped by it.
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { exitWithin, get, isAlive, livePids, newMasterIn, readPid, seenWorkers, sleep, startLoad, stopMasterByPid, tempDir, waitFor, waitForWorkers, writeApp } from '../helpers/process.mjs';
import { startServer } from '../helpers/server.mjs';
import { unixGet } from '../helpers/unix.mjs';

/** Serves version v1 of the test app with two workers and a pid file under a load of requests; `body` sends USR2. */
async function underLoad(body) {
  const dir = tempDir();
  const app = dir.file('app.mjs');
  const pidFile = dir.file('starlight.pid');
  writeApp(app, 'v1');
  const server = await startServer(['--workers=2', `--pid=${pidFile}`, app], { timeoutMs: 15000 });
  try {
    const old = await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    const load = startLoad(server.port, { keepAlive: 2, oneShot: 2 });
    let stats;
    try {
      await sleep(300);
      await body({ server, app, pidFile, old });
      await sleep(300);
    } finally {
      stats = await load.stop();
    }
    assert.deepEqual(stats.failures, [], `${stats.failures.length} failed of ${stats.ok + stats.failures.length}`);
    assert.ok(stats.ok > 100, `only ${stats.ok} requests`);
    return stats;
  } finally {
    await stopMasterByPid(newMasterIn(server.stderr));
    await server.stop();
    dir.remove();
  }
}

test('USR2 under a load of requests: the new master serves the new code, the old one exits, zero failed requests, --pid names the new master', { timeout: 40000 }, async () => {
  const stats = await underLoad(async ({ server, app, pidFile, old }) => {
    assert.equal(readPid(pidFile), server.pid);
    writeApp(app, 'v2');
    process.kill(server.pid, 'SIGUSR2');
    const fresh = await waitFor(() => newMasterIn(server.stderr), { timeoutMs: 5000, message: () => `the new master's pid in the log:\n${server.stderr}` });
    assert.ok((await exitWithin(server.exited, 15000)) !== null, `the old master still runs:\n${server.stderr}`);
    for (const pid of old) await waitFor(() => !isAlive(pid), { timeoutMs: 5000, message: `old worker ${pid} exiting` });
    assert.ok(isAlive(fresh), `the new master ${fresh} does not run:\n${server.stderr}`);
    assert.equal(readPid(pidFile), fresh, 'the pid file names the new master');
    const workers = await waitForWorkers(fresh, 2);
    const answers = await Promise.all([0, 1, 2, 3].map(() => get(server.port)));
    for (const { json } of answers) {
      assert.equal(json.version, 'v2');
      assert.ok(workers.includes(json.pid), `answered by ${json.pid}, not one of the new master's workers (${workers})`);
    }
    assert.match(server.stderr, /SIGUSR2 \(the new master, pid \d+, serves\): stopping gracefully/);
  });
  assert.deepEqual([...stats.versions].sort(), ['v1', 'v2']);
});

test('USR2 when the app no longer loads: the old master keeps serving and says why; no new master is left', { timeout: 40000 }, async () => {
  await underLoad(async ({ server, app, pidFile, old }) => {
    writeFileSync(app, 'export default {\n');
    process.kill(server.pid, 'SIGUSR2');
    const failed = await waitFor(() => /SIGUSR2: the new master \(pid (\d+)\) exited with code (\d+) before serving: ([\s\S]*); this master keeps serving/.exec(server.stderr), {
      timeoutMs: 15000,
      message: () => `the old master's word on the failed new one:\n${server.stderr}`,
    });
    assert.match(failed[3], /SyntaxError|Unexpected/);
    await waitFor(() => !isAlive(Number(failed[1])), { timeoutMs: 3000, message: 'the failed new master gone' });
    assert.equal(server.exit, null, 'the old master still runs');
    assert.deepEqual(livePids(server.pid).sort(), [...old].sort(), 'the old workers still serve');
    assert.equal((await get(server.port)).json.version, 'v1');
    assert.equal(readPid(pidFile), server.pid, 'the pid file names the old master again');
  });
});

test('USR2 with --workers=0: ignored with a log line; the server keeps serving', { timeout: 20000 }, async () => {
  const dir = tempDir();
  const app = dir.file('app.mjs');
  writeApp(app, 'v1');
  const server = await startServer(['--workers=0', app], { timeoutMs: 15000 });
  try {
    process.kill(server.pid, 'SIGUSR2');
    await waitFor(() => /SIGUSR2 ignored: with --workers=0/.test(server.stderr), { timeoutMs: 5000, message: () => `the log line:\n${server.stderr}` });
    assert.equal((await get(server.port)).json.version, 'v1');
    assert.equal(server.exit, null);
  } finally {
    await server.stop();
    dir.remove();
  }
});

test('USR2 with a UNIX socket: the socket file the old master bound stays for the new one, which serves on it', { timeout: 40000 }, async () => {
  const dir = tempDir();
  const app = dir.file('app.mjs');
  const socket = dir.file('app.sock');
  writeApp(app, 'v1');
  const server = await startServer(['--workers=2', `--socket=${socket}`, `--pid=${dir.file('pid')}`, app], { timeoutMs: 15000 });
  let running = true;
  const failures = [];
  const loop = (async () => {
    while (running) await unixGet(socket).catch((error) => failures.push(error.message));
  })();
  try {
    await sleep(200);
    writeApp(app, 'v2');
    process.kill(server.pid, 'SIGUSR2');
    assert.ok((await exitWithin(server.exited, 15000)) !== null, `the old master still runs:\n${server.stderr}`);
    const fresh = newMasterIn(server.stderr);
    assert.equal(statSync(socket).isSocket(), true, 'the socket file is still there');
    const { json } = await unixGet(socket);
    assert.equal(json.version, 'v2');
    assert.ok(livePids(fresh).includes(json.pid), `answered by ${json.pid}, not one of the new master's workers`);
    running = false;
    await loop;
    assert.deepEqual(failures, []);
  } finally {
    running = false;
    await loop;
    await stopMasterByPid(newMasterIn(server.stderr));
    await server.stop();
    dir.remove();
  }
});
