// Beyond one machine: two network namespaces stand for two machines, each with its own private
// address (helpers/netns.mjs) and a starlight under --proxy-protocol; HAProxy in the root
// namespace in front of both, with the config docs/deploy.md shows for several machines (health
// checks, PROXY v2, retries elsewhere). Under a bounded load of GETs and POSTs through HAProxy,
// one instance is drained with TERM: no request fails, both instances answered before and only
// the other one after, and the app saw the load's own address, not HAProxy's. Skipped, saying
// why, where namespaces cannot be made (not root, no iproute2, a sandbox that forbids them).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { haproxyConfig, haproxySkip, startHaproxy } from '../helpers/haproxy.mjs';
import { makeHosts } from '../helpers/netns.mjs';
import { APP, sleep, startLoad, startPosts, tempDir, waitFor, waitForWorkers } from '../helpers/process.mjs';
import { startServer } from '../helpers/server.mjs';

const DEPLOY_DOC = new URL('../../docs/deploy.md', import.meta.url);

test('docs/deploy.md shows the HAProxy config for several machines that this test runs', () => {
  const doc = readFileSync(DEPLOY_DOC, 'utf8');
  const block = `<!-- haproxy:several -->\n\`\`\`haproxy\n${haproxyConfig(':80', ['10.0.0.11:8080', '10.0.0.12:8080'])}\`\`\`\n`;
  assert.ok(doc.includes(block), `docs/deploy.md has, after <!-- haproxy:several -->:\n${block}`);
});

/** Pids whose count in `after` (a Map(pid → count)) is above their count in `before`. */
const grew = (before, after) => [...after].filter(([pid, n]) => n > (before.get(pid) ?? 0)).map(([pid]) => pid);

test('two instances in their own namespaces behind HAProxy: one drained with TERM under load, no request lost', { skip: haproxySkip, timeout: 40000 }, async (t) => {
  let network;
  try {
    network = makeHosts(2);
  } catch (error) {
    t.skip(error.message);
    return;
  }
  const dir = tempDir();
  const servers = [];
  let haproxy = null;
  let load = null;
  let posts = null;
  try {
    for (const host of network.hosts) {
      servers.push(await startServer([`--host=${host.address}`, '--port=8080', '--workers=1', '--proxy-protocol', APP], { listen: false, launcher: host.prefix, timeoutMs: 15000 }));
    }
    const [drained, kept] = await Promise.all(servers.map(async (server) => (await waitForWorkers(server.pid, 1))[0]));
    haproxy = await startHaproxy(dir, network.hosts.map((host) => `${host.address}:8080`));
    await waitFor(async () => JSON.stringify(await haproxy.states()) === '{"app1":"UP","app2":"UP"}', {
      timeoutMs: 10000,
      message: () => `HAProxy's checks finding both instances up; HAProxy's log:\n${haproxy.stderr}`,
    });

    // Each request takes a while, so that some are in flight at the moment the drained instance stops.
    load = startLoad(haproxy.port, { keepAlive: 2, oneShot: 1, path: '/slow?ms=50' });
    posts = startPosts(haproxy.port, 2, '/slow?ms=50');
    await sleep(1000);
    const before = new Map([...load.stats.pids, ...posts.stats.pids]);
    servers[0].kill('SIGTERM');
    const exit = await servers[0].exited;
    // The last answers of the drained instance, written before it exited, reach their clients.
    await sleep(300);
    const drainedAt = new Map(load.stats.pids);
    const postsDrainedAt = new Map(posts.stats.pids);
    await sleep(1000);
    const [stats, postStats] = await Promise.all([load.stop(), posts.stop()]);

    const log = `HAProxy's log:\n${haproxy.stderr.slice(-3000)}`;
    assert.equal(exit.code, 0, servers[0].stderr);
    assert.deepEqual(stats.failures, [], `failed GETs through HAProxy (ok: ${stats.ok}); ${log}`);
    assert.deepEqual(postStats.failures, [], `failed POSTs through HAProxy (ok: ${postStats.ok}); ${log}`);
    assert.deepEqual([...before.keys()].sort(), [drained, kept].sort(), 'both instances answered before the drain');
    assert.deepEqual(grew(drainedAt, stats.pids), [kept], 'only the other instance answered GETs after the drain');
    assert.deepEqual(grew(postsDrainedAt, postStats.pids), [kept], 'only the other instance answered POSTs after the drain');
    // HAProxy reached the instances from the root ends of the veth pairs (10.B.C.1); the app saw the load's address.
    assert.deepEqual([...stats.addresses], ['127.0.0.1']);
    assert.deepEqual(await haproxy.states(), { app1: 'DOWN', app2: 'UP' });
  } finally {
    await Promise.all([load?.stop(), posts?.stop()]);
    await haproxy?.stop();
    for (const server of servers) await server.stop();
    network.remove();
    dir.remove();
  }
});
