// What every real proxy in front of starlight is put through (test/deploy/): a HUP rolling
// restart under a bounded load of GETs and POSTs through the proxy, and a TERM with requests in
// flight. Each asserts; the caller then checks what its proxy answers once starlight is gone.
// Importing this module has no side effect.
import assert from 'node:assert/strict';
import { get, livePids, newSockets, openSockets, settle, sleep, startLoad, startPosts, waitFor, waitForWorkers } from './process.mjs';

/**
 * A HUP to `server` (2 workers) while GETs and POSTs run through the proxy at `port` without
 * pause: no request fails, and both the old workers and the new ones answered. `proxyLog()`: the
 * proxy's own account, added to a failure's message.
 */
export async function hupThroughProxy(server, port, name, proxyLog = () => '') {
  const old = await waitForWorkers(server.pid, 2);
  // Each request takes a while, so that some are in flight at the moment an old worker stops.
  const load = startLoad(port, { keepAlive: 2, oneShot: 1, path: '/slow?ms=50' });
  const posts = startPosts(port, 2, '/slow?ms=50');
  await sleep(1000);
  process.kill(server.pid, 'SIGHUP');
  await waitFor(
    () => {
      const pids = livePids(server.pid);
      return pids.length === 2 && pids.every((pid) => !old.includes(pid));
    },
    { timeoutMs: 15000, message: () => `two new workers (live: ${livePids(server.pid)}, old: ${old})` },
  );
  await sleep(1000);
  const [stats, postStats] = await Promise.all([load.stop(), posts.stop()]);
  assert.deepEqual(stats.failures, [], `failed GETs through ${name} (ok: ${stats.ok})${proxyLog()}`);
  assert.deepEqual(postStats.failures, [], `failed POSTs through ${name} (ok: ${postStats.ok})${proxyLog()}`);
  assert.ok(postStats.ok > 0, 'POSTs answered');
  assert.ok([...stats.pids.keys()].some((pid) => old.includes(pid)), 'old workers answered');
  assert.ok([...stats.pids.keys()].some((pid) => !old.includes(pid)), 'new workers answered');
}

/**
 * A TERM to `server` (1 worker) while four slow requests through the proxy at `port` are in
 * flight, each on a connection the worker accepted: all are answered 200, and starlight exits 0.
 */
export async function termThroughProxy(server, port, name) {
  const [worker] = await waitForWorkers(server.pid, 1);
  const before = openSockets(worker);
  const inFlight = Array.from({ length: 4 }, (_, i) => settle(get(port, `/slow?ms=1500&n=${i}`)));
  await waitFor(() => newSockets(worker, before).length >= 4, { message: () => `4 connections from ${name} (have ${newSockets(worker, before).length})` });
  server.kill('SIGTERM');
  for (const { response, error } of await Promise.all(inFlight)) {
    assert.equal(error, undefined, `an accepted request failed: ${error?.message}`);
    assert.equal(response.status, 200, response.body);
    assert.equal(response.json.path, '/slow');
  }
  const exit = await server.exited;
  assert.equal(exit.code, 0, server.stderr);
}
