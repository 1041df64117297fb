// SPEC §2, master and workers: --workers=N forks N workers (titled, children
// of the master); app code runs in workers only; a killed worker is replaced
// at once and reaped (no zombie, Starlight's B4); the kernel deals connections
// over the workers evenly, and a client that half-closes is answered.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { httpRequest, sendAndHalfClose } from '../helpers/raw.mjs';
import {
  APP,
  Client,
  assertNoZombies,
  cmdline,
  get,
  livePids,
  procStat,
  seenWorkers,
  tempDir,
  waitFor,
  waitForWorkers,
  withServer,
} from '../helpers/process.mjs';

test('--workers=3: three titled workers, children of the master; app code loads in workers only', { timeout: 30000 }, async () => {
  const dir = tempDir();
  const log = dir.file('loads.log');
  try {
    await withServer(['--workers=3', APP], { env: { PROCESS_APP_LOG: log } }, async (server) => {
      assert.match(server.stderr, /Accepting connections at http:\/\/127\.0\.0\.1:\d+\/ \(3 workers\)/);
      assert.equal(cmdline(server.pid), 'starlight master');
      const workers = await waitForWorkers(server.pid, 3);
      // All three report ready: each answers.
      const answering = await seenWorkers(server.port, 3);
      assert.deepEqual(answering.sort(), [...workers].sort());
      const titles = workers.map(cmdline).sort();
      for (const title of titles) assert.match(title, /^starlight worker \d+$/);
      assert.equal(new Set(titles).size, 3, `distinct worker titles: ${titles}`);
      for (const pid of workers) assert.equal(procStat(pid).ppid, server.pid);
      const ids = new Set();
      await waitFor(async () => ids.add((await get(server.port)).json.worker).size === 3, { intervalMs: 0, message: 'worker ids 1, 2 and 3' });
      assert.deepEqual([...ids].sort(), [1, 2, 3]);
      // Every process that ran the app's top level is a worker, never the master.
      const loaders = readFileSync(log, 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[1]));
      assert.ok(!loaders.includes(server.pid), 'the master loaded app code');
      assert.deepEqual([...loaders].sort(), [...workers].sort());
    });
  } finally {
    dir.remove();
  }
});

test('--workers=1 also loads the app only in the worker', { timeout: 30000 }, async () => {
  const dir = tempDir();
  const log = dir.file('loads.log');
  try {
    await withServer(['--workers=1', APP], { env: { PROCESS_APP_LOG: log } }, async (server) => {
      assert.match(server.stderr, /\(1 worker\)/);
      const [worker] = await waitForWorkers(server.pid, 1);
      const response = await get(server.port);
      assert.equal(response.json.pid, worker);
      assert.notEqual(response.json.pid, server.pid);
      const loaders = readFileSync(log, 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[1]));
      assert.deepEqual(loaders, [worker]);
    });
  } finally {
    dir.remove();
  }
});

test('a worker killed with SIGKILL is replaced within a second and reaped', { timeout: 30000 }, async () => {
  await withServer(['--workers=2', APP], {}, async (server) => {
    let workers = await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    for (let round = 0; round < 3; round++) {
      const victim = workers[round % 2];
      const killedAt = Date.now();
      process.kill(victim, 'SIGKILL');
      const now = await waitFor(
        () => {
          const pids = livePids(server.pid);
          return pids.length === 2 && !pids.includes(victim) ? pids : null;
        },
        { timeoutMs: 3000, intervalMs: 10, message: 'a replacement worker' },
      );
      const took = Date.now() - killedAt;
      assert.ok(took < 1000, `replaced after ${took} ms`);
      await assertNoZombies(server.pid, `after SIGKILL of ${victim}`);
      workers = now;
      // The replacement serves.
      await seenWorkers(server.port, 2, 5000);
    }
    assert.ok(!server.stderr.includes('Error'), server.stderr);
  });
});

test('with 2 workers, 100 keep-alive connections of 20 requests each, opened 10 at a time, are shared 35-65% each', { timeout: 60000 }, async () => {
  await withServer(['--workers=2', APP], {}, async (server) => {
    const workers = await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    // Each connection's worker (its requests follow it, and the CPU each worker gets).
    const counts = new Map();
    let requests = 0;
    const connection = async () => {
      const client = await Client.open(server.port);
      try {
        let pid;
        for (let i = 0; i < 20; i++) {
          const response = await client.request('/');
          assert.equal(response.status, 200);
          assert.equal(response.close, false);
          pid = response.json.pid;
          requests++;
        }
        counts.set(pid, (counts.get(pid) ?? 0) + 1);
      } finally {
        client.destroy();
      }
    };
    // (Ten batches, not five of more requests: a moment when one worker gets no CPU skews a
    // batch or two, which a share of 50 connections felt more than one of 100 does.)
    for (let batch = 0; batch < 10; batch++) await Promise.all(Array.from({ length: 10 }, connection));
    assert.equal(requests, 2000);
    assert.deepEqual([...counts.keys()].sort(), [...workers].sort());
    for (const [pid, count] of counts) {
      const share = count / 100;
      assert.ok(share >= 0.35 && share <= 0.65, `worker ${pid} took ${count} of 100 connections`);
    }
  });
});

test('with 2 workers, a client that half-closes after its request is answered', { timeout: 30000 }, async () => {
  await withServer(['--workers=2', APP], {}, async (server) => {
    await seenWorkers(server.port, 2);
    for (let i = 0; i < 4; i++) {
      const { closed, responses, error } = await sendAndHalfClose(server.port, httpRequest('GET', '/slow?ms=50'));
      assert.equal(closed, 'fin');
      assert.equal(error, null);
      assert.deepEqual(
        responses.map((r) => [r.status, JSON.parse(r.text).path]),
        [[200, '/slow']],
      );
    }
  });
});
