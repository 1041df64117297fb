// SPEC §2, HUP and TTIN/TTOU: a rolling restart loads the app afresh (new
// code), one worker at a time, each new worker ready before an old one
// retires, paced by --spawn-interval; new code that cannot load stops the roll
// and the old workers keep serving (Starlight's B14: HUP killed the master);
// clients sending requests meanwhile see no failure. TTIN/TTOU: one worker
// more/fewer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  APP,
  assertNoZombies,
  get,
  isAlive,
  livePids,
  seenWorkers,
  sleep,
  startLoad,
  tempDir,
  waitFor,
  waitForWorkers,
  withServer,
  writeApp,
} from '../helpers/process.mjs';

/** Waits until every answer on new connections is `version` from a worker not in `old`, `workers` of them; returns their pids. */
async function rolledTo(server, version, old, workers, timeoutMs = 10000) {
  return waitFor(
    async () => {
      const pids = livePids(server.pid);
      if (pids.length !== workers || pids.some((pid) => old.includes(pid))) return null;
      for (let i = 0; i < workers * 2; i++) {
        const { json } = await get(server.port);
        if (json.version !== version || old.includes(json.pid)) return null;
      }
      return pids;
    },
    { timeoutMs, intervalMs: 50, message: () => `${workers} new workers serving ${version} (live: ${livePids(server.pid)}, old: ${old})` },
  );
}

/**
 * Serves version v1 of a test app (a Node app with `node`) from a temporary
 * file with `args`; `body` may rewrite the file (`writeApp`), which goes at the end.
 */
async function withVersionedApp(args, body, { node = false } = {}) {
  const dir = tempDir();
  const app = dir.file('app.mjs');
  writeApp(app, 'v1', { node });
  try {
    await withServer([...args, app], {}, (server) => body(server, app));
  } finally {
    dir.remove();
  }
}

for (const [workers, kind] of [[1, 'Fetch'], [2, 'Fetch'], [2, 'Node']]) {
  const node = kind === 'Node';
  test(`--workers=${workers}, a ${kind} app: HUP while clients send requests: new workers, new code, zero failed requests`, { timeout: 40000 }, async () => {
    await withVersionedApp([`--workers=${workers}`], async (server, app) => {
      const old = await waitForWorkers(server.pid, workers);
      await seenWorkers(server.port, workers);
      const load = startLoad(server.port, { keepAlive: 2, oneShot: 2 });
      await sleep(300);
      writeApp(app, 'v2', { node });
      process.kill(server.pid, 'SIGHUP');
      const fresh = await rolledTo(server, 'v2', old, workers);
      await sleep(300);
      const stats = await load.stop();
      assert.deepEqual(stats.failures, [], `${stats.failures.length} failed of ${stats.ok + stats.failures.length}`);
      assert.ok(stats.ok > 100, `only ${stats.ok} requests`);
      assert.deepEqual([...stats.versions].sort(), ['v1', 'v2']);
      for (const pid of old) assert.ok(!isAlive(pid), `old worker ${pid} still runs`);
      assert.equal(fresh.length, workers);
      await assertNoZombies(server.pid, 'after HUP');
      await waitFor(() => /rolling restart done/.test(server.stderr), { timeoutMs: 3000, message: 'the log of the finished roll' });
      // A second roll works as well.
      writeApp(app, 'v3', { node });
      process.kill(server.pid, 'SIGHUP');
      await rolledTo(server, 'v3', fresh, workers);
      await assertNoZombies(server.pid, 'after the second HUP');
    }, { node });
  });
}

for (const workers of [1, 2]) {
  test(`--workers=${workers}: each new worker is ready before an old one retires (new code that loads slowly)`, { timeout: 40000 }, async () => {
    await withVersionedApp([`--workers=${workers}`], async (server, app) => {
      const old = await waitForWorkers(server.pid, workers);
      await seenWorkers(server.port, workers);
      const load = startLoad(server.port, { keepAlive: 1, oneShot: 1, pauseMs: 5 });
      // The new code takes 1.2 s to load: the old workers must serve all that time.
      writeApp(app, 'v2', { bootDelayMs: 1200 });
      const hupAt = Date.now();
      process.kill(server.pid, 'SIGHUP');
      let fewest = workers;
      while (Date.now() - hupAt < 1000) {
        const answer = await get(server.port);
        assert.equal(answer.json.version, 'v1', `v2 answered ${Date.now() - hupAt} ms after HUP, before it could load`);
        fewest = Math.min(fewest, old.filter(isAlive).length);
        await sleep(20);
      }
      assert.equal(fewest, workers, 'an old worker stopped before its replacement was ready');
      await rolledTo(server, 'v2', old, workers, 15000);
      const stats = await load.stop();
      assert.deepEqual(stats.failures, [], `${stats.failures.length} failed of ${stats.ok + stats.failures.length}`);
      await assertNoZombies(server.pid, 'after HUP');
    });
  });
}

test('--spawn-interval=0.5 paces the roll: one new worker per 0.5 s, an old one still alive 0.5 s after HUP', { timeout: 40000 }, async () => {
  await withVersionedApp(['--workers=2', '--spawn-interval=0.5'], async (server, app) => {
    const old = await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    writeApp(app, 'v2');
    const hupAt = Date.now();
    process.kill(server.pid, 'SIGHUP');
    const born = new Map();
    const died = new Map();
    let aliveAtHalf = null;
    while (Date.now() - hupAt < 6000 && died.size < old.length) {
      const now = Date.now() - hupAt;
      for (const pid of livePids(server.pid)) if (!old.includes(pid) && !born.has(pid)) born.set(pid, now);
      for (const pid of old) if (!died.has(pid) && !isAlive(pid)) died.set(pid, now);
      if (aliveAtHalf === null && now >= 500) aliveAtHalf = old.filter(isAlive).length;
      await sleep(10);
    }
    const what = `new workers born at ${[...born.values()]} ms, old ones gone at ${[...died.values()]} ms after HUP`;
    assert.equal(died.size, 2, what);
    assert.ok(aliveAtHalf >= 1, `no old worker alive 0.5 s after HUP; ${what}`);
    const births = [...born.values()].sort((a, b) => a - b);
    assert.equal(births.length, 2, what);
    assert.ok(births[1] - births[0] >= 450, `the second new worker was spawned ${births[1] - births[0]} ms after the first; ${what}`);
    const last = Math.max(...died.values());
    assert.ok(last >= 500 && last < 5000, `the roll of 2 workers took ${last} ms; ${what}`);
    await rolledTo(server, 'v2', old, 2);
    await assertNoZombies(server.pid, 'after a paced HUP');
  });
});

test('HUP into code that cannot load: the roll stops, the old workers keep serving the old code, the error is logged', { timeout: 40000 }, async () => {
  await withVersionedApp(['--workers=2'], async (server, app) => {
    const old = await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    const load = startLoad(server.port, { keepAlive: 1, oneShot: 1 });
    writeApp(app, null, { throws: 'process-test: version 3 cannot load' });
    process.kill(server.pid, 'SIGHUP');
    await waitFor(() => /rolling restart stopped/.test(server.stderr), { timeoutMs: 5000, message: () => `the roll to stop; stderr:\n${server.stderr}` });
    assert.match(server.stderr, /process-test: version 3 cannot load/);
    await sleep(1000);
    const stats = await load.stop();
    assert.deepEqual(stats.failures, [], `${stats.failures.length} failed of ${stats.ok + stats.failures.length}`);
    assert.deepEqual([...stats.versions], ['v1']);
    assert.deepEqual(livePids(server.pid).sort(), [...old].sort(), 'the old workers are the workers');
    assert.deepEqual((await seenWorkers(server.port, 2)).sort(), [...old].sort());
    await assertNoZombies(server.pid, 'after a failed roll');
    // Fixed code: the next HUP rolls.
    writeApp(app, 'v4');
    process.kill(server.pid, 'SIGHUP');
    await rolledTo(server, 'v4', old, 2);
    assert.equal(server.child.exitCode, null);
  });
});

test('two HUPs in a row while clients send requests: the newest code wins, zero failed requests', { timeout: 40000 }, async () => {
  await withVersionedApp(['--workers=2'], async (server, app) => {
    const old = await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    const load = startLoad(server.port, { keepAlive: 2, oneShot: 2 });
    writeApp(app, 'v2', { bootDelayMs: 300 });
    process.kill(server.pid, 'SIGHUP');
    await sleep(150);
    writeApp(app, 'v3');
    process.kill(server.pid, 'SIGHUP');
    const fresh = await rolledTo(server, 'v3', old, 2);
    await sleep(500);
    const stats = await load.stop();
    assert.deepEqual(stats.failures, [], `${stats.failures.length} failed of ${stats.ok + stats.failures.length}`);
    assert.deepEqual(livePids(server.pid).sort(), [...fresh].sort(), 'no worker of an older roll is left');
    await assertNoZombies(server.pid, 'after two HUPs');
  });
});

test('an old worker killed during a roll: the roll ends with the wanted number of workers, all new', { timeout: 40000 }, async () => {
  await withVersionedApp(['--workers=2'], async (server, app) => {
    const old = await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    writeApp(app, 'v2', { bootDelayMs: 600 });
    process.kill(server.pid, 'SIGHUP');
    await sleep(200);
    process.kill(old[0], 'SIGKILL');
    let most = 0;
    let doneAt = null;
    const start = Date.now();
    // Watch until the roll is done, and a moment more (a surplus would show then).
    while (Date.now() - start < 8000 && (doneAt === null || Date.now() - doneAt < 500)) {
      const live = livePids(server.pid);
      most = Math.max(most, live.length);
      if (doneAt === null && live.length === 2 && !live.some((pid) => old.includes(pid))) doneAt = Date.now();
      await sleep(10);
    }
    await rolledTo(server, 'v2', old, 2);
    assert.ok(most <= 3, `${most} workers at once during a roll of 2`);
    await assertNoZombies(server.pid, 'after a kill during a roll');
  });
});

test('TTIN adds a worker, TTOU removes one (never below one)', { timeout: 40000 }, async () => {
  await withServer(['--workers=2', APP], {}, async (server) => {
    await waitForWorkers(server.pid, 2);
    process.kill(server.pid, 'SIGTTIN');
    const three = await waitForWorkers(server.pid, 3);
    assert.deepEqual((await seenWorkers(server.port, 3)).sort(), [...three].sort());
    process.kill(server.pid, 'SIGTTOU');
    const two = await waitForWorkers(server.pid, 2);
    assert.ok(two.every((pid) => three.includes(pid)), 'TTOU retires a worker, it starts none');
    process.kill(server.pid, 'SIGTTOU');
    const one = await waitForWorkers(server.pid, 1);
    for (let i = 0; i < 5; i++) assert.equal((await get(server.port)).json.pid, one[0]);
    process.kill(server.pid, 'SIGTTOU');
    await sleep(500);
    assert.deepEqual(livePids(server.pid), one, 'TTOU never leaves no worker');
    process.kill(server.pid, 'SIGTTIN');
    await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    await assertNoZombies(server.pid, 'after TTIN/TTOU');
    assert.match(server.stderr, /SIGTTIN: 3 workers wanted/);
  });
});

test('TTOU while clients send requests: the retired worker closes its keep-alive connections cleanly, zero failed requests', { timeout: 40000 }, async () => {
  await withServer(['--workers=3', APP], {}, async (server) => {
    await waitForWorkers(server.pid, 3);
    await seenWorkers(server.port, 3);
    const load = startLoad(server.port, { keepAlive: 6, oneShot: 1, pauseMs: 2 });
    await sleep(300);
    process.kill(server.pid, 'SIGTTOU');
    await waitForWorkers(server.pid, 2, 10000);
    process.kill(server.pid, 'SIGTTOU');
    await waitForWorkers(server.pid, 1, 10000);
    await sleep(300);
    const stats = await load.stop();
    assert.deepEqual(stats.failures, [], `${stats.failures.length} failed of ${stats.ok + stats.failures.length}`);
    assert.ok(stats.closes >= 1, 'the retired workers said Connection: close');
  });
});
