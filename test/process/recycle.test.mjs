// SPEC §2, recycling: --max-reqs-per-child (and inf), --min-reqs-per-child
// (a limit drawn per worker), context.harakiri(); a retiring worker is
// replaced first and says `Connection: close` on its last keep-alive response,
// so clients that keep sending requests see no failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  APP,
  Client,
  assertNoZombies,
  get,
  isAlive,
  livePids,
  seenWorkers,
  startLoad,
  tempDir,
  waitFor,
  waitForWorkers,
  withServer,
  writeApp,
} from '../helpers/process.mjs';

/** Sends `n` requests one after another, each on a new connection; returns the pid of each answer. */
async function sequential(port, n) {
  const pids = [];
  for (let i = 0; i < n; i++) {
    const response = await get(port);
    assert.equal(response.status, 200);
    pids.push(response.json.pid);
  }
  return pids;
}

function countBy(values) {
  const counts = new Map();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

test('--max-reqs-per-child=10: each worker is replaced after 10 requests', { timeout: 30000 }, async () => {
  await withServer(['--workers=2', '--max-reqs-per-child=10', APP], {}, async (server) => {
    await waitForWorkers(server.pid, 2);
    const pids = await sequential(server.port, 80);
    const counts = countBy(pids);
    // Two workers and a new one for each 10 requests: about 8 workers in all.
    assert.ok(counts.size >= 6, `only ${counts.size} workers served 80 requests: ${[...counts.values()]}`);
    // A worker that is gone served its 10 (it stops accepting as it reaches them; one more may
    // slip in on a connection it had accepted meanwhile).
    await waitForWorkers(server.pid, 2);
    for (const [pid, count] of counts) {
      if (isAlive(pid)) assert.ok(count <= 12, `worker ${pid} served ${count}`);
      else assert.ok(count >= 10 && count <= 12, `retired worker ${pid} served ${count} requests`);
    }
    await assertNoZombies(server.pid, 'after recycling');
  });
});

test('--max-reqs-per-child=inf (and the default): workers are never replaced', { timeout: 30000 }, async () => {
  for (const args of [['--max-reqs-per-child=inf'], []]) {
    await withServer(['--workers=1', ...args, APP], {}, async (server) => {
      const [worker] = await waitForWorkers(server.pid, 1);
      const client = await Client.open(server.port);
      try {
        for (let i = 0; i < 600; i++) {
          const response = await client.request('/');
          assert.equal(response.json.pid, worker);
          assert.equal(response.close, false);
        }
      } finally {
        client.destroy();
      }
      const pids = await sequential(server.port, 50);
      assert.deepEqual([...new Set(pids)], [worker]);
      assert.deepEqual(livePids(server.pid), [worker]);
    });
  }
});

test('--min-reqs-per-child=5 --max-reqs-per-child=30: each worker draws its own limit in [5, 30]', { timeout: 40000 }, async () => {
  await withServer(['--workers=2', '--min-reqs-per-child=5', '--max-reqs-per-child=30', APP], {}, async (server) => {
    await waitForWorkers(server.pid, 2);
    const pids = await sequential(server.port, 240);
    await waitForWorkers(server.pid, 2);
    const retired = [...countBy(pids)].filter(([pid]) => !isAlive(pid)).map(([, count]) => count);
    assert.ok(retired.length >= 6, `only ${retired.length} workers retired after 240 requests: ${retired}`);
    for (const count of retired) assert.ok(count >= 5 && count <= 32, `a retired worker served ${count} requests: ${retired}`);
    assert.ok(new Set(retired).size >= 3, `workers served the same counts ${retired}: the limit is not drawn per worker`);
    await assertNoZombies(server.pid, 'after recycling');
  });
});

test('context.harakiri(): that response says Connection: close, and the worker is replaced', { timeout: 30000 }, async () => {
  await withServer(['--workers=2', APP], {}, async (server) => {
    const before = await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    for (let round = 0; round < 3; round++) {
      const client = await Client.open(server.port);
      const response = await client.request('/harakiri');
      assert.equal(response.status, 200);
      assert.equal(response.close, true, 'the harakiri response says Connection: close');
      assert.equal(await client.closed, 'fin', 'the server closes the connection after it');
      const victim = response.json.pid;
      await waitFor(() => !isAlive(victim), { timeoutMs: 5000, message: `harakiri worker ${victim} to exit` });
      const after = await waitForWorkers(server.pid, 2);
      assert.ok(!after.includes(victim));
      await assertNoZombies(server.pid, 'after harakiri');
    }
    // Every worker present at the start is gone or still serving, and two serve now.
    const now = await seenWorkers(server.port, 2);
    assert.equal(now.length, 2);
    assert.ok(now.some((pid) => !before.includes(pid)));
  });
});

test('harakiri in bursts (Starlight B4): every exit is reaped and the pool stays full', { timeout: 30000 }, async () => {
  await withServer(['--workers=4', APP], {}, async (server) => {
    await waitForWorkers(server.pid, 4);
    await seenWorkers(server.port, 4);
    const victims = new Set();
    for (let burst = 0; burst < 3; burst++) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => get(server.port, '/harakiri')));
      for (const answer of answers) {
        assert.equal(answer.status, 200);
        victims.add(answer.json.pid);
      }
      await waitFor(() => [...victims].every((pid) => !isAlive(pid)), { timeoutMs: 8000, message: 'the harakiri workers to exit' });
      await waitForWorkers(server.pid, 4, 8000);
      await assertNoZombies(server.pid, `after harakiri burst ${burst + 1}`);
    }
    assert.ok(victims.size >= 8, `${victims.size} workers did harakiri`);
  });
});

test('the retiring worker answers its last keep-alive request with Connection: close, then closes', { timeout: 30000 }, async () => {
  await withServer(['--workers=1', '--max-reqs-per-child=10', APP], {}, async (server) => {
    const [first] = await waitForWorkers(server.pid, 1);
    const client = await Client.open(server.port);
    const answers = [];
    let how;
    try {
      for (let i = 0; i < 200; i++) {
        const response = await client.request('/slow?ms=10');
        answers.push(response);
        if (response.close) break;
      }
      how = await Promise.race([client.closed, new Promise((resolve) => setTimeout(resolve, 3000, 'still open'))]);
    } finally {
      client.destroy();
    }
    const last = answers.at(-1);
    assert.equal(last.close, true, `no Connection: close in ${answers.length} responses`);
    assert.ok(answers.length >= 10, `closed after ${answers.length} requests`);
    assert.ok(answers.every((answer) => answer.json.pid === first));
    assert.ok(answers.slice(0, -1).every((answer) => !answer.close));
    assert.equal(how, 'fin', 'the server closes the connection after its Connection: close response');
    await waitFor(() => !isAlive(first), { timeoutMs: 5000, message: 'the retired worker to exit' });
    const [second] = await waitForWorkers(server.pid, 1);
    assert.notEqual(second, first);
    assert.equal((await get(server.port)).json.pid, second);
  });
});

for (const [workers, kind] of [[1, 'Fetch'], [2, 'Fetch'], [2, 'Node']]) {
  test(`--workers=${workers}, a ${kind} app: clients sending requests while workers recycle see no failure`, { timeout: 40000 }, async () => {
    const dir = tempDir();
    const app = dir.file('app.mjs');
    writeApp(app, 'v1', { node: kind === 'Node' });
    await withServer([`--workers=${workers}`, '--max-reqs-per-child=40', app], {}, async (server) => {
      await waitForWorkers(server.pid, workers);
      const load = startLoad(server.port, { keepAlive: 2, oneShot: 2 });
      // Until several workers recycled, one of them under a keep-alive connection (it ends it with Connection: close).
      await waitFor(() => load.stats.pids.size >= workers + 4 && load.stats.closes > 0, {
        timeoutMs: 20000,
        message: () => `recycling (${load.stats.pids.size} pids, ${load.stats.closes} keep-alive connections closed)`,
      });
      const stats = await load.stop();
      assert.deepEqual(stats.failures, [], `${stats.failures.length} failed of ${stats.ok + stats.failures.length}`);
      // At least three workers served their 40 (a retired worker serves no more than its limit).
      assert.ok(stats.ok >= 3 * 40, `${stats.ok} requests`);
      assert.ok(stats.closes > 0, 'keep-alive connections were closed with Connection: close');
      await waitForWorkers(server.pid, workers);
      await assertNoZombies(server.pid, 'after recycling under load');
    }).finally(() => dir.remove());
  });
}
