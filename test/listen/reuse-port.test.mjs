// --reuse-port (SPEC §1.3), real processes on a Node whose listen() sets SO_REUSEPORT (22.12+,
// 23.1+; CI runs the suite under Node 24): each worker holds a listening socket of its own on the
// port and the master none (it keeps its bound copy without listening), both workers answer new
// connections, HUP's new workers have theirs, so do a USR2 successor's once the old master is
// gone, and --workers=0 serves on one. (On an older Node the
// option is refused: test/cli/main.test.mjs.)
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, test } from 'node:test';
import { APP, exitWithin, get, livePids, newMasterIn, seenWorkers, sleep, startLoad, stopMasterByPid, waitFor, waitForWorkers, withServer } from '../helpers/process.mjs';

const [major, minor] = process.versions.node.split('.').map(Number);
const hasReusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
const skip =
  process.platform !== 'linux'
    ? 'SO_REUSEPORT dealing is Linux-only'
    : hasReusePort
      ? false
      : `Node ${process.version} cannot listen() with SO_REUSEPORT (22.12+ or 23.1+ can; CI runs this file under Node 24)`;

/** The inodes of the sockets listening on TCP `port` (/proc/net/tcp and tcp6, state 0A). */
function listeningInodes(port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && fields[1].endsWith(`:${hexPort}`) && fields[3] === '0A') inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** The socket inodes among the descriptors of `pid`. */
function socketInodes(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (socket) inodes.add(socket[1]);
    } catch {
      // (closed meanwhile)
    }
  }
  return inodes;
}

/** For each pid, the sockets listening on `port` that it holds. */
function listenersOf(pids, port) {
  const listening = listeningInodes(port);
  return pids.map((pid) => [...socketInodes(pid)].filter((inode) => listening.has(inode)));
}

/** Asserts that each worker holds one listening socket on the port, none shared, and the master none; returns the inodes. */
function assertOwnSockets(server, workers) {
  const held = listenersOf(workers, server.port);
  for (const [index, inodes] of held.entries()) assert.equal(inodes.length, 1, `worker ${workers[index]} listens on ${inodes.length} sockets on the port`);
  assert.equal(new Set(held.flat()).size, workers.length, `the workers share a socket: ${JSON.stringify(held)}`);
  assert.deepEqual(listenersOf([server.pid], server.port), [[]], 'the master holds no listening socket on the port');
  assert.equal(listeningInodes(server.port).size, workers.length, 'a listening socket on the port that no worker holds');
  return held.flat();
}

describe('--reuse-port', { skip }, () => {
  test('--workers=2: each worker listens on a socket of its own, the master on none; both answer new connections; so do those of a HUP', { timeout: 60000 }, async () => {
    await withServer(['--workers=2', '--reuse-port', APP], {}, async (server) => {
      const workers = await waitForWorkers(server.pid, 2);
      const sockets = assertOwnSockets(server, workers);
      // The kernel deals new connections over the two sockets: both workers answer.
      assert.deepEqual(new Set(await seenWorkers(server.port, 2, 10000)), new Set(workers));

      const load = startLoad(server.port, { keepAlive: 1, oneShot: 2 });
      await sleep(200);
      process.kill(server.pid, 'SIGHUP');
      const fresh = await waitFor(
        () => {
          const pids = livePids(server.pid);
          return pids.length === 2 && !pids.some((pid) => workers.includes(pid)) ? pids : null;
        },
        { timeoutMs: 20000, message: () => `two new workers (live: ${livePids(server.pid)}, old: ${workers})` },
      );
      await sleep(200);
      const stats = await load.stop();
      // Linux resets what was still queued on a closing worker's socket (net.ipv4.tcp_migrate_req=0,
      // the default): some new connections may fail, and nothing else may.
      const unexpected = stats.failures.filter((failure) => !/ECONNRESET|\(reset\)/.test(failure));
      assert.deepEqual(unexpected, [], `failures other than resets, of ${stats.ok + stats.failures.length}`);
      assert.ok(stats.ok > 50, `only ${stats.ok} requests answered during the HUP`);

      const freshSockets = await waitFor(() => {
        try {
          return assertOwnSockets(server, fresh);
        } catch {
          return null;
        }
      }, { message: () => `each new worker listening on its own socket: ${JSON.stringify(listenersOf(fresh, server.port))}` });
      assert.ok(!freshSockets.some((inode) => sockets.includes(inode)), 'a new worker listens on an old worker\'s socket');
      assert.deepEqual(new Set(await seenWorkers(server.port, 2, 10000)), new Set(fresh));
    });
  });

  test('USR2: the new master\'s workers listen on sockets of their own; the old master and workers are gone', { timeout: 40000 }, async () => {
    let successor = null;
    try {
      await withServer(['--workers=2', '--reuse-port', APP], {}, async (server) => {
        const old = await waitForWorkers(server.pid, 2);
        process.kill(server.pid, 'SIGUSR2');
        successor = await waitFor(() => newMasterIn(server.stderr), { timeoutMs: 5000, message: () => `the new master in the log:\n${server.stderr}` });
        assert.ok((await exitWithin(server.exited, 15000)) !== null, `the old master still runs:\n${server.stderr}`);
        const workers = await waitForWorkers(successor, 2);
        await waitFor(() => listeningInodes(server.port).size === 2, { message: () => `the old workers' sockets closed (${listeningInodes(server.port).size} listening)` });
        assertOwnSockets({ pid: successor, port: server.port }, workers);
        assert.deepEqual(new Set(await seenWorkers(server.port, 2, 10000)), new Set(workers));
        assert.ok(!old.some((pid) => workers.includes(pid)));
      });
    } finally {
      await stopMasterByPid(successor);
    }
  });

  test('--workers=0: the one process listens on its SO_REUSEPORT socket and serves', async () => {
    await withServer(['--workers=0', '--reuse-port', APP], {}, async (server) => {
      assert.equal(listenersOf([server.pid], server.port)[0].length, 1);
      const { status, json } = await get(server.port);
      assert.equal(status, 200);
      assert.equal(json.pid, server.pid);
    });
  });
});
