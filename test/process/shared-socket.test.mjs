// With several workers, each accepts on the master's listening socket itself
// and the kernel deals the connections: the master holds none (its own copy
// of the socket is never polled), the workers' shares of the connections stay
// within 35-65% for two under load (worker/fair-share.ts), and the backlog the master keeps
// open carries connections across every change of workers: no request fails
// across HUP, recycling and TTIN/TTOU under load.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APP, Client, newSockets, openSockets, seenWorkers, sleep, startLoad, waitFor, waitForWorkers, withServer } from '../helpers/process.mjs';

/** Each pid's share of `counts` (a Map pid → connections), asserted within [low, high]. */
function assertShares(counts, pids, low, high, what) {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const shares = pids.map((pid) => (counts.get(pid) ?? 0) / total);
  const shown = shares.map((share) => `${(share * 100).toFixed(1)}%`).join(' / ');
  for (const share of shares) assert.ok(share >= low && share <= high, `${what}: shares ${shown} of ${total} connections`);
}

test('each worker accepts on the master\'s socket; under load the master holds no client connection', { timeout: 40000 }, async () => {
  await withServer(['--workers=2', APP], {}, async (server) => {
    const workers = await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    const before = openSockets(server.pid);
    // The master's listening socket is open in every worker (the IPC channels are socket pairs: each end its own).
    for (const pid of workers) assert.ok([...openSockets(pid)].some((socket) => before.has(socket)), `worker ${pid} holds none of the master's sockets`);
    const load = startLoad(server.port, { keepAlive: 4, oneShot: 4 });
    const held = new Set();
    const started = Date.now();
    while (Date.now() - started < 2000) {
      for (const socket of newSockets(server.pid, before)) held.add(socket);
      await sleep(5);
    }
    const stats = await load.stop();
    assert.deepEqual(stats.failures, []);
    assert.ok(stats.ok > 100, `${stats.ok} requests answered`);
    assert.deepEqual([...held], [], 'sockets the master opened under load');
    assert.deepEqual([...stats.pids.keys()].sort(), [...workers].sort(), 'both workers served');
  });
});

test('2 workers under load: each takes 35-65% of 32 keep-alive connections opened at once, and of a new connection per request', { timeout: 60000 }, async () => {
  // No connection reaches --max-keepalive-reqs's default (1000) in the 2 s on a fast machine.
  await withServer(['--workers=2', '--max-keepalive-reqs=1000000', APP], {}, async (server) => {
    const workers = await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    // Keep-alive: the connections, all busy, are opened at once (a burst to split). (Their
    // requests split as the connections do, or as the CPU goes, where other processes take it.)
    const clients = await Promise.all(Array.from({ length: 32 }, () => Client.open(server.port)));
    const counts = new Map();
    const until = Date.now() + 2000;
    try {
      await Promise.all(
        clients.map(async (client) => {
          let pid;
          do ({ pid } = (await client.request('/')).json);
          while (Date.now() < until);
          counts.set(pid, (counts.get(pid) ?? 0) + 1);
        }),
      );
    } finally {
      for (const client of clients) client.destroy();
    }
    assertShares(counts, workers, 0.35, 0.65, 'keep-alive');
    // A new connection per request, 16 at a time.
    const load = startLoad(server.port, { keepAlive: 0, oneShot: 16 });
    await sleep(2000);
    const stats = await load.stop();
    assert.deepEqual(stats.failures, []);
    assertShares(stats.pids, workers, 0.35, 0.65, 'a connection per request');
  });
});

test('under load, HUP, recycling (--max-reqs-per-child) and TTIN/TTOU fail no request', { timeout: 60000 }, async () => {
  await withServer(['--workers=2', '--max-reqs-per-child=400', APP], {}, async (server) => {
    await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    const load = startLoad(server.port, { keepAlive: 4, oneShot: 4 });
    try {
      await sleep(500);
      process.kill(server.pid, 'SIGHUP');
      await waitFor(() => server.stderr.includes('rolling restart done'), { timeoutMs: 20000, message: 'the roll done' });
      process.kill(server.pid, 'SIGTTIN');
      await waitForWorkers(server.pid, 3, 10000);
      await sleep(500);
      process.kill(server.pid, 'SIGTTOU');
      await waitForWorkers(server.pid, 2, 10000);
      await waitFor(() => (server.stderr.match(/is recycled/g) ?? []).length >= 2, { timeoutMs: 20000, message: () => `two workers recycled: ${server.stderr}` });
    } finally {
      const stats = await load.stop();
      assert.deepEqual(stats.failures, [], `${stats.failures.length} failed of ${stats.ok + stats.failures.length}`);
      assert.ok(stats.ok > 800, `${stats.ok} requests answered`);
    }
  });
});
