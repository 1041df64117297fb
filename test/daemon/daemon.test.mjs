// SPEC §1.3 -D: the command returns 0 only once the daemon serves (non-zero with
// the error when it cannot), relative paths work (resolved before detaching:
// Starlight's B5), the pid file names the daemon master, which is in a session
// of its own and no child of the command; TERM by that pid stops it. USR2 works for
// a daemon too: the command that started it runs again, serving in its place.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { exitWithin, get, isAlive, livePids, newMasterIn, procStat, readPid, seenWorkers, sleep, startLoad, stopMasterByPid, tempDir, waitFor, waitForWorkers } from '../helpers/process.mjs';
import { BIN, cleanEnv } from '../helpers/server.mjs';
import { freePort, read, waitForLog, writeLoggingApp } from './helpers.mjs';

/** Runs the starlight command to its end: { code, stdout, stderr }. */
function starlight(args, cwd) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return exitWithin(closed, 20000);
}

/** TERM to a pid we did not start as a child, then waits for it to be gone (KILL as a last resort). */
async function stopByPid(pid) {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  try {
    await waitFor(() => !isAlive(pid), { timeoutMs: 10000, message: `pid ${pid} to exit` });
  } catch (error) {
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    throw error;
  }
}

for (const workers of [2, 0]) {
  test(`-D --workers=${workers} with relative --pid, --error-log and app: returns 0 once serving; the daemon is detached and serves; TERM by its pid stops it`, { timeout: 40000 }, async () => {
    const dir = tempDir();
    writeLoggingApp(dir.file('app.mjs'));
    const port = await freePort();
    let pid = 0;
    try {
      const result = await starlight(['-D', `--workers=${workers}`, '--host=127.0.0.1', `--port=${port}`, '--pid=run.pid', '--error-log=error.log', 'app.mjs'], dir.path);
      assert.equal(result.code, 0, result.stderr);
      pid = Number(readFileSync(dir.file('run.pid'), 'utf8').trim());
      assert.match(result.stdout, new RegExp(`serving as a daemon, pid ${pid}\\n`));
      assert.ok(isAlive(pid), 'the pid file names a live process');
      const stat = procStat(pid);
      assert.notEqual(stat.ppid, process.pid, 'not a child of the test');
      assert.equal(stat.session, pid, 'it leads a session of its own');
      assert.notEqual(stat.session, procStat(process.pid).session);
      // Serving already when the command returned: no wait.
      const response = await get(port, '/?n=7');
      assert.equal(response.status, 200);
      assert.match(read(dir.file('error.log')), /Accepting connections at http:\/\/127\.0\.0\.1:\d+\//);
      await waitFor(() => /app-out 7\napp-err 7\n|app-err 7\napp-out 7\n/.test(read(dir.file('error.log'))), { message: 'the app output in the error log' });
      await stopByPid(pid);
      assert.throws(() => readFileSync(dir.file('run.pid')), /ENOENT/, 'the daemon removed its pid file');
    } finally {
      if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
      dir.remove();
    }
  });
}

test('-D with an app that cannot load: the command exits non-zero with the error, no daemon left', { timeout: 30000 }, async () => {
  const dir = tempDir();
  writeFileSync(dir.file('bad.mjs'), "throw new Error('the bad app refuses to load');\n");
  try {
    const result = await starlight(['-D', '--workers=1', '--host=127.0.0.1', '--port=0', '--pid=run.pid', '--error-log=error.log', 'bad.mjs'], dir.path);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the bad app refuses to load/);
    assert.equal(read(dir.file('error.log')).split('starlight: ').length - 1, 1, 'the error once in the log');
    const pid = Number(read(dir.file('run.pid')).trim());
    assert.ok(!(pid > 0 && isAlive(pid)), 'no daemon left');
    // A missing app fails before detaching.
    const missing = await starlight(['-D', '--workers=1', '--port=0', 'missing.mjs'], dir.path);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /missing\.mjs: no such file/);
  } finally {
    dir.remove();
  }
});

test('-D: USR2 under a load of requests: a new master serves in the daemon\'s place, the pid file names it, the old one exits, zero failed requests; TERM by the pid file stops it', { timeout: 60000 }, async () => {
  const dir = tempDir();
  writeLoggingApp(dir.file('app.mjs'));
  const port = await freePort();
  const pidFile = dir.file('run.pid');
  const log = dir.file('error.log');
  let old = 0;
  let fresh = null;
  try {
    const result = await starlight(['-D', '--workers=2', '--host=127.0.0.1', `--port=${port}`, '--pid=run.pid', '--error-log=error.log', 'app.mjs'], dir.path);
    assert.equal(result.code, 0, result.stderr);
    old = readPid(pidFile);
    const oldWorkers = await waitForWorkers(old, 2);
    const load = startLoad(port, { keepAlive: 2, oneShot: 2 });
    let stats;
    try {
      await sleep(300);
      process.kill(old, 'SIGUSR2');
      fresh = await waitFor(() => newMasterIn(read(log)), { timeoutMs: 10000, message: () => `the new master in the error log:\n${read(log)}` });
      await waitFor(() => !isAlive(old), { timeoutMs: 20000, message: () => `the old master ${old} exiting:\n${read(log)}` });
      await sleep(300);
    } finally {
      stats = await load.stop();
    }
    assert.deepEqual(stats.failures, [], `${stats.failures.length} failed of ${stats.ok + stats.failures.length}`);
    assert.ok(stats.ok > 100, `only ${stats.ok} requests`);
    for (const pid of oldWorkers) await waitFor(() => !isAlive(pid), { timeoutMs: 5000, message: `old worker ${pid} exiting` });

    assert.equal(readPid(pidFile), fresh, 'the pid file names the new master');
    assert.ok(isAlive(fresh), `the new master does not run:\n${read(log)}`);
    const stat = procStat(fresh);
    assert.equal(stat.session, fresh, 'the new master leads a session of its own (detached, not daemonized again)');
    assert.equal(livePids(fresh).length, 2);
    const workers = await waitForWorkers(fresh, 2);
    assert.deepEqual(new Set(await seenWorkers(port, 2)), new Set(workers), "the new master's workers serve");
    // The new master and its workers write to the same --error-log: its banner (on the handed-over socket), the app's output.
    const response = await get(port, '/?n=42');
    assert.ok(workers.includes(response.json.pid));
    await waitForLog(log, /app-out 42\n/);
    assert.match(read(log), new RegExp(`Accepting connections at http://127\\.0\\.0\\.1:${port}/ \\(fd://4\\) \\(2 workers\\)`), 'the new master\'s banner');

    process.kill(readPid(pidFile), 'SIGTERM');
    await waitFor(() => !isAlive(fresh), { timeoutMs: 10000, message: () => `the new master ${fresh} exiting on TERM:\n${read(log)}` });
    assert.equal(readPid(pidFile), null, 'the new master removed its pid file');
  } finally {
    await stopMasterByPid(fresh);
    await stopMasterByPid(old > 0 ? old : null);
    dir.remove();
  }
});
