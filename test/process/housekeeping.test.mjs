// SPEC §1.3 and §2, housekeeping: --pid (the master's pid; stale replaced,
// live refused; removed by the master only, never when a worker exits:
// Starlight's B1 and B16), --main-process-delay, process titles, the banner
// (one line per listener, with the worker count), and the app's exported
// port/hostname used when no option names them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { startServer } from '../helpers/server.mjs';
import {
  APP,
  APP_LIB,
  assertNoZombies,
  cmdline,
  exitWithin,
  get,
  isAlive,
  livePids,
  seenWorkers,
  sleep,
  tempDir,
  waitFor,
  waitForWorkers,
  withServer,
} from '../helpers/process.mjs';
import { freePort } from '../helpers/ports.mjs';

/** The pid of a process that has exited. */
function deadPid() {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('exit', () => resolve(child.pid));
  });
}

test('--pid: the master pid; kept when workers exit (harakiri, kill, TTOU); removed by the master at exit', { timeout: 30000 }, async () => {
  const dir = tempDir();
  const pidFile = dir.file('starlight.pid');
  try {
    let master;
    await withServer(['--workers=2', `--pid=${pidFile}`, APP], {}, async (server) => {
      master = server.pid;
      assert.equal(readFileSync(pidFile, 'utf8').trim(), String(server.pid));
      const workers = await waitForWorkers(server.pid, 2);
      await seenWorkers(server.port, 2);
      // A worker exits by harakiri, another is killed, one more is retired by TTOU.
      const victim = (await get(server.port, '/harakiri')).json.pid;
      await waitFor(() => !isAlive(victim), { message: 'the harakiri worker to exit' });
      await waitForWorkers(server.pid, 2);
      assert.equal(readFileSync(pidFile, 'utf8').trim(), String(server.pid), 'the pid file after a worker exited');
      const other = workers.find((pid) => pid !== victim);
      process.kill(other, 'SIGKILL');
      await waitFor(() => !isAlive(other), { message: 'the killed worker to go' });
      await waitForWorkers(server.pid, 2);
      process.kill(server.pid, 'SIGTTOU');
      await waitForWorkers(server.pid, 1);
      await sleep(200);
      assert.equal(readFileSync(pidFile, 'utf8').trim(), String(server.pid), 'the pid file after workers exited');
      // Clients still get through (Starlight's B1 removed the socket file as well).
      assert.equal((await get(server.port)).status, 200);
      await assertNoZombies(server.pid);
      process.kill(server.pid, 'SIGTERM');
      assert.deepEqual(await exitWithin(server.exited, 5000), { code: 0, signal: null });
    });
    assert.ok(master > 0);
    assert.ok(!existsSync(pidFile), 'the master removes the pid file at exit');
  } finally {
    dir.remove();
  }
});

test('--pid: a stale file (dead pid) is replaced; one naming a live starlight is refused', { timeout: 30000 }, async () => {
  const dir = tempDir();
  const pidFile = dir.file('starlight.pid');
  try {
    writeFileSync(pidFile, `${await deadPid()}\n`);
    await withServer(['--workers=1', `--pid=${pidFile}`, APP], {}, async (server) => {
      assert.equal(readFileSync(pidFile, 'utf8').trim(), String(server.pid), 'the stale pid was replaced');
      // A second server on the same pid file (and another port) is refused.
      const second = await startServer(['--workers=1', `--pid=${pidFile}`, APP], { wait: 'none' });
      try {
        const exit = await exitWithin(second.exited, 10000);
        assert.notEqual(exit, null, `the second server did not stop; stderr:\n${second.stderr}`);
        assert.ok(exit.code !== 0 && exit.code !== null, `exit ${JSON.stringify(exit)}`);
        assert.match(second.stderr, new RegExp(`already running.*${server.pid}|${server.pid}.*already running`));
        assert.doesNotMatch(second.stderr, /Accepting connections/);
      } finally {
        await second.stop();
      }
      assert.equal(readFileSync(pidFile, 'utf8').trim(), String(server.pid), 'the refused server left the pid file alone');
      assert.equal((await get(server.port)).status, 200);
    });
    assert.ok(!existsSync(pidFile));
  } finally {
    dir.remove();
  }
});

test('--main-process-delay is accepted and the master still supervises', { timeout: 30000 }, async () => {
  for (const delay of ['0.5', '0.02']) {
    await withServer(['--workers=2', `--main-process-delay=${delay}`, APP], {}, async (server) => {
      const [first] = await waitForWorkers(server.pid, 2);
      await seenWorkers(server.port, 2);
      const killedAt = Date.now();
      process.kill(first, 'SIGKILL');
      await waitFor(() => livePids(server.pid).length === 2 && !livePids(server.pid).includes(first), { timeoutMs: 5000, message: 'a replacement' });
      assert.ok(Date.now() - killedAt < 2000, `replaced after ${Date.now() - killedAt} ms with --main-process-delay=${delay}`);
      await seenWorkers(server.port, 2);
    });
  }
});

test('titles and banner: one line per listener, with the worker count', { timeout: 30000 }, async () => {
  const run = await startServer(['--workers=2', '--listen=127.0.0.1:0', '--listen=127.0.0.1:0', APP], { listen: false, wait: 'none' });
  try {
    const lines = await run.banners(2);
    await sleep(300);
    assert.equal(lines.length, 2, run.stderr);
    const ports = lines.map((line) => {
      assert.match(line, /^starlight\/\d+\.\d+\.\d+\S*: Accepting connections at http:\/\/127\.0\.0\.1:\d+\/ \(2 workers\)$/);
      return Number(/:(\d+)\/ /.exec(line)[1]);
    });
    assert.notEqual(ports[0], ports[1]);
    assert.equal(run.stderr.split('\n').filter((line) => /Accepting connections/.test(line)).length, 2, 'the banner is printed once');
    for (const port of ports) assert.equal((await get(port)).status, 200);
    assert.equal(cmdline(run.child.pid), 'starlight master');
    const workers = await waitForWorkers(run.child.pid, 2);
    assert.deepEqual(workers.map(cmdline).sort(), ['starlight worker 1', 'starlight worker 2']);
  } finally {
    await run.stop();
  }
  // --quiet: no banner.
  const quiet = await startServer(['--workers=1', '--quiet', APP], { wait: 'none' });
  try {
    await waitForWorkers(quiet.child.pid, 1);
    await sleep(500);
    assert.doesNotMatch(quiet.stderr, /Accepting connections/);
  } finally {
    await quiet.stop();
  }
});

test("the app's exported port and hostname decide where the master binds when no option does", { timeout: 30000 }, async () => {
  const dir = tempDir();
  const app = dir.file('app.mjs');
  try {
    const port = await freePort();
    writeFileSync(app, `import { makeApp } from ${JSON.stringify(APP_LIB)};\nexport default { ...makeApp('exported'), port: ${port}, hostname: '127.0.0.1' };\n`);
    const run = await startServer(['--workers=2', app], { listen: false, wait: 'none' });
    try {
      const [line] = await run.banners(1);
      assert.match(line, new RegExp(`Accepting connections at http://127\\.0\\.0\\.1:${port}/ \\(2 workers\\)`));
      const answer = await get(port);
      assert.equal(answer.json.version, 'exported');
      assert.notEqual(answer.json.pid, run.child.pid);
    } finally {
      assert.deepEqual(await run.stop(), { code: 0, signal: null });
    }
    // An option wins over the export.
    await withServer(['--workers=1', app], {}, async (server) => {
      assert.notEqual(server.port, port);
      assert.equal((await get(server.port)).json.version, 'exported');
    });
  } finally {
    dir.remove();
  }
});
