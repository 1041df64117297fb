// SPEC §2, failures: a killed worker is replaced at once; a worker whose event
// loop is blocked past --worker-timeout is killed and replaced while the
// others keep answering; workers that die right after boot are restarted with
// a growing delay (a crash loop, not hundreds of forks); an app that cannot
// load at start ends the start with its error and no worker left.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { startServer } from '../helpers/server.mjs';
import {
  APP,
  Client,
  assertNoZombies,
  clientOnEachWorker,
  exitWithin,
  get,
  isAlive,
  livePids,
  seenWorkers,
  settle,
  sleep,
  tempDir,
  waitFor,
  waitForWorkers,
  withServer,
} from '../helpers/process.mjs';

test('--workers=1: the worker killed with SIGKILL is replaced within a second; a request meanwhile waits for it', { timeout: 30000 }, async () => {
  await withServer(['--workers=1', APP], {}, async (server) => {
    const [first] = await waitForWorkers(server.pid, 1);
    const killedAt = Date.now();
    process.kill(first, 'SIGKILL');
    // Sent while no worker runs: the listening socket stays open in the master, so it waits.
    const answering = get(server.port);
    const [second] = await waitFor(
      () => {
        const live = livePids(server.pid);
        return live.length === 1 && live[0] !== first ? live : null;
      },
      { timeoutMs: 3000, intervalMs: 10, message: 'a replacement worker' },
    );
    assert.ok(Date.now() - killedAt < 1000, `replaced ${Date.now() - killedAt} ms after the kill`);
    const answer = await answering;
    assert.equal(answer.json.pid, second);
    await assertNoZombies(server.pid, 'after SIGKILL');
    assert.match(server.stderr, /was killed by SIGKILL/);
  });
});

test('--worker-timeout=1: a worker blocked in a busy loop is killed and replaced; the other keeps answering', { timeout: 40000 }, async () => {
  await withServer(['--workers=2', '--worker-timeout=1', APP], {}, async (server) => {
    const workers = await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    // One keep-alive connection on each worker.
    const [[pa, a], [pb, b]] = await clientOnEachWorker(server.port, workers);
    const blockedAt = Date.now();
    const blocked = settle(a.request('/block?ms=10000', { timeoutMs: 15000 }));
    // The other worker answers all along on its connection, and new connections go to it: the
    // blocked one, its event loop stopped, accepts none.
    let newConnections = 0;
    const failures = [];
    while (isAlive(pa) && Date.now() - blockedAt < 6000) {
      const answer = await b.request('/');
      assert.equal(answer.json.pid, pb);
      if (Date.now() - blockedAt >= 800) {
        const fresh = await settle(get(server.port, '/', 4000));
        if (fresh.error) failures.push(fresh.error.message);
        else newConnections++;
      }
      await sleep(50);
    }
    const killedAfter = Date.now() - blockedAt;
    assert.ok(!isAlive(pa), 'the blocked worker was not killed');
    assert.ok(killedAfter >= 900 && killedAfter < 4000, `killed ${killedAfter} ms after it blocked, with --worker-timeout=1`);
    assert.ok((await blocked).error !== undefined, 'the blocked request got an answer');
    assert.match(server.stderr, /sent no heartbeat for \d+\.\d s: killing it/);
    const now = await waitForWorkers(server.pid, 2);
    assert.ok(now.includes(pb) && !now.includes(pa));
    assert.deepEqual((await seenWorkers(server.port, 2)).sort(), [...now].sort());
    assert.deepEqual(failures, [], `new connections while a worker was blocked: ${newConnections} answered`);
    assert.ok(newConnections >= 1, 'no new connection was tried while the worker was blocked');
    b.destroy();
    await assertNoZombies(server.pid, 'after a heartbeat kill');
  });
});

test('workers that die right after boot are restarted with a growing delay; the loop ends once they stay up', { timeout: 40000 }, async () => {
  const dir = tempDir();
  const log = dir.file('loads.log');
  const crash = dir.file('crash');
  try {
    await withServer(['--workers=1', APP], { env: { PROCESS_APP_LOG: log, PROCESS_APP_CRASH_FILE: crash } }, async (server) => {
      const [first] = await waitForWorkers(server.pid, 1);
      assert.equal((await get(server.port)).json.pid, first);
      // From now on every new worker exits 50 ms after it loaded the app.
      writeFileSync(crash, '');
      const loadsBefore = readFileSync(log, 'utf8').trim().split('\n').length;
      const killedAt = Date.now();
      process.kill(first, 'SIGKILL');
      await sleep(3000);
      const loads = readFileSync(log, 'utf8').trim().split('\n').slice(loadsBefore).map((line) => Number(line.split(' ')[2]));
      const gaps = loads.slice(1).map((at, i) => at - loads[i]);
      const what = `${loads.length} starts in 3 s, ${gaps.join(', ')} ms apart`;
      assert.ok(loads.length >= 3 && loads.length <= 10, what);
      // The pauses the master announces double...
      const announced = [...server.stderr.matchAll(/^(\S+) .*workers keep dying young: next start in (\d+) ms/gm)];
      const pauses = announced.map((m) => ({ at: Date.parse(m[1]), ms: Number(m[2]) }));
      assert.ok(pauses.length >= 2, server.stderr);
      for (let i = 1; i < pauses.length; i++) assert.ok(pauses[i].ms > pauses[i - 1].ms, `pauses ${pauses.map((p) => p.ms)}`);
      // ...and are kept: the last start came at least the pause announced before it after the one
      // before. (A gap is that pause plus a start-up time a busy machine stretches, so gaps are
      // compared with the pauses, not with each other.)
      const lastPause = pauses.filter((pause) => pause.at <= loads.at(-1)).at(-1);
      assert.ok(lastPause !== undefined && gaps.at(-1) >= lastPause.ms, `a start came sooner than its pause (${lastPause?.ms} ms): ${what}`);
      await assertNoZombies(server.pid, 'during a crash loop');
      // The app is fixed: the next start stays up and serves.
      rmSync(crash);
      const answer = await waitFor(async () => (await settle(get(server.port, '/', 2000))).response, { timeoutMs: 12000, intervalMs: 200, message: 'a worker to serve after the crash loop' });
      assert.equal(answer.status, 200);
      assert.ok(Date.now() - killedAt < 15000);
      assert.equal(server.child.exitCode, null, 'the master stays up through a crash loop');
    });
  } finally {
    dir.remove();
  }
});

for (const workers of [1, 2]) {
  test(`--workers=${workers}: an app that cannot load at start: its error, exit non-zero, no worker left`, { timeout: 30000 }, async () => {
    const dir = tempDir();
    const app = dir.file('broken.mjs');
    const log = dir.file('loads.log');
    writeFileSync(
      app,
      `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(log)}, process.pid + '\\n');\nthrow new Error('process-test: the app cannot load at start');\n`,
    );
    const server = await startServer([`--workers=${workers}`, app], { wait: 'none' });
    try {
      const exit = await exitWithin(server.exited, 10000);
      assert.notEqual(exit, null, `the master did not exit; stderr:\n${server.stderr}`);
      assert.ok(exit.code !== 0 && exit.code !== null, `exit ${JSON.stringify(exit)}`);
      assert.match(server.stderr, /process-test: the app cannot load at start/);
      assert.doesNotMatch(server.stderr, /Accepting connections/);
      const loaders = readFileSync(log, 'utf8').trim().split('\n').map(Number);
      assert.ok(loaders.length >= 1 && !loaders.includes(server.pid), `loaded in ${loaders}`);
      await sleep(200);
      for (const pid of loaders) assert.ok(!isAlive(pid), `worker ${pid} is left`);
      assert.deepEqual(livePids(server.pid), []);
    } finally {
      await server.stop();
      dir.remove();
    }
  });
}

for (const workers of [1, 2]) {
  test(`--workers=${workers}: the master killed with SIGKILL: its workers finish and exit, none is left serving`, { timeout: 30000 }, async () => {
    await withServer([`--workers=${workers}`, APP], {}, async (server) => {
      const pids = await waitForWorkers(server.pid, workers);
      await seenWorkers(server.port, workers);
      const busy = await Client.open(server.port);
      const slow = settle(busy.request('/slow?ms=800'));
      await sleep(200);
      process.kill(server.pid, 'SIGKILL');
      const { response } = await slow;
      assert.equal(response?.status, 200, 'the in-flight request is finished');
      await waitFor(() => pids.every((pid) => !isAlive(pid)), { timeoutMs: 5000, message: () => `orphaned workers to exit: ${pids.filter(isAlive)}` });
      await assert.rejects(get(server.port, '/', 2000), 'nothing serves once the master is gone');
    });
  });
}
