// --reuse-port (SPEC §1.3), real processes on a Node whose listen() sets SO_REUSEPORT (22.12+,
// 23.1+; CI runs the suite under Node 24): each worker holds a listening socket of its own on the
// port and the master none (it keeps its bound copy without listening), both workers answer new
// connections, HUP's new workers have theirs, so do a USR2 successor's once the old master is
// gone, and --workers=0 serves on one. (On an older Node the
// option is refused: test/cli/main.test.mjs.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { APP, exitWithin, get, isAlive, livePids, newMasterIn, privilegedPort, seenWorkers, sleep, startLoad, stopMasterByPid, tempDir, waitFor, waitForWorkers, withServer } from '../helpers/process.mjs';

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

/**
 * Asserts that each of `workers` holds one listening socket on the port, none shared, that no other
 * socket listens there, and that the master's are copies of those; returns the inodes.
 */
function assertOwnSockets(master, port, workers) {
  const held = listenersOf(workers, port);
  for (const [index, inodes] of held.entries()) assert.equal(inodes.length, 1, `worker ${workers[index]} listens on ${inodes.length} sockets on the port`);
  const sockets = held.flat().sort();
  assert.equal(new Set(sockets).size, workers.length, `the workers share a socket: ${JSON.stringify(held)}`);
  assert.deepEqual([...listeningInodes(port)].sort(), sockets, 'a socket listens on the port that no worker holds');
  assert.deepEqual(listenersOf([master], port)[0].sort(), sockets, "the master keeps a copy of each worker's socket, and no other listening one");
  return sockets;
}

/** Waits until `workers` (default: the master's workers then) hold the port's sockets as assertOwnSockets says; returns the inodes. */
function ownSockets(master, port, workers) {
  let why = '';
  return waitFor(
    () => {
      try {
        return assertOwnSockets(master, port, workers ?? livePids(master));
      } catch (error) {
        why = error.message;
        return null;
      }
    },
    // (Reading /proc/net/tcp takes a while where many connections linger in TIME_WAIT.)
    { timeoutMs: 20000, intervalMs: 100, message: () => `each worker on a socket of its own: ${why}` },
  );
}

/** Runs a load of requests (new connections mostly) around `body`; asserts that none failed. */
async function underLoad(port, body) {
  const load = startLoad(port, { keepAlive: 1, oneShot: 4 });
  let stats;
  try {
    await sleep(200);
    await body();
    await sleep(200);
  } finally {
    stats = await load.stop();
  }
  assert.deepEqual(stats.failures, [], `${stats.failures.length} failed of ${stats.ok + stats.failures.length}`);
  assert.ok(stats.ok > 50, `only ${stats.ok} requests answered`);
  return stats;
}

/** Waits until the master has `n` workers, none of them in `old`; returns their pids. */
function newWorkers(master, n, old) {
  return waitFor(
    () => {
      const pids = livePids(master);
      return pids.length === n && !pids.some((pid) => old.includes(pid)) ? pids : null;
    },
    { timeoutMs: 20000, message: () => `${n} new workers (live: ${livePids(master)}, old: ${old})` },
  );
}

describe('--reuse-port', { skip }, () => {
  test('--workers=2: each worker listens on a socket of its own; both answer new connections; a HUP under load loses none, its workers taking the sockets over', { timeout: 60000 }, async () => {
    await withServer(['--workers=2', '--reuse-port', APP], {}, async (server) => {
      const workers = await waitForWorkers(server.pid, 2);
      const sockets = await ownSockets(server.pid, server.port, workers);
      // The kernel deals new connections over the two sockets: both workers answer.
      assert.deepEqual(new Set(await seenWorkers(server.port, 2, 10000)), new Set(workers));

      let fresh = [];
      await underLoad(server.port, async () => {
        process.kill(server.pid, 'SIGHUP');
        fresh = await newWorkers(server.pid, 2, workers);
      });
      assert.deepEqual(await ownSockets(server.pid, server.port, fresh), sockets, "the new workers listen on the old ones' sockets");
      assert.deepEqual(new Set(await seenWorkers(server.port, 2, 10000)), new Set(fresh));
    });
  });

  test('recycling (--max-reqs-per-child) under load loses no request: each new worker takes over the sockets of the one it replaces', { timeout: 60000 }, async () => {
    await withServer(['--workers=2', '--reuse-port', '--max-reqs-per-child=300', APP], {}, async (server) => {
      const workers = await waitForWorkers(server.pid, 2);
      const sockets = await ownSockets(server.pid, server.port, workers);
      const stats = await underLoad(server.port, () => newWorkers(server.pid, 2, workers));
      assert.ok(stats.pids.size > 2, `no worker was recycled: ${[...stats.pids.keys()]}`);
      assert.deepEqual(await ownSockets(server.pid, server.port), sockets);
    });
  });

  test('USR2 under load loses no request: the new master\'s workers take over the old workers\' sockets; the old master is gone', { timeout: 60000 }, async () => {
    let successor = null;
    try {
      await withServer(['--workers=2', '--reuse-port', APP], {}, async (server) => {
        const old = await waitForWorkers(server.pid, 2);
        const sockets = await ownSockets(server.pid, server.port, old);
        let workers = [];
        await underLoad(server.port, async () => {
          process.kill(server.pid, 'SIGUSR2');
          successor = await waitFor(() => newMasterIn(server.stderr), { timeoutMs: 5000, message: () => `the new master in the log:\n${server.stderr}` });
          assert.ok((await exitWithin(server.exited, 15000)) !== null, `the old master still runs:\n${server.stderr}`);
          for (const pid of old) await waitFor(() => !isAlive(pid), { timeoutMs: 5000, message: `old worker ${pid} exiting` });
          workers = await waitForWorkers(successor, 2);
        });
        assert.deepEqual(await ownSockets(successor, server.port, workers), sockets);
        assert.deepEqual(new Set(await seenWorkers(server.port, 2, 10000)), new Set(workers));
      });
    } finally {
      await stopMasterByPid(successor);
    }
  });

  test('a killed worker\'s replacement takes over its socket; TTOU closes one: no socket listens that no worker holds', { timeout: 60000 }, async () => {
    await withServer(['--workers=2', '--reuse-port', APP], {}, async (server) => {
      const workers = await waitForWorkers(server.pid, 2);
      const sockets = await ownSockets(server.pid, server.port, workers);
      process.kill(workers[0], 'SIGKILL');
      const replaced = await newWorkers(server.pid, 2, [workers[0]]);
      assert.deepEqual(await ownSockets(server.pid, server.port, replaced), sockets);
      process.kill(server.pid, 'SIGTTOU');
      const [left] = await waitForWorkers(server.pid, 1, 10000);
      const [socket] = await ownSockets(server.pid, server.port, [left]);
      assert.ok(sockets.includes(socket));
      assert.equal((await get(server.port)).json.pid, left);
    });
  });

  test('as root on a privileged port with --user=nobody: the workers run as nobody and serve on sockets of their own', { timeout: 60000 }, async (t) => {
    const nobody = spawnSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }).stdout.split(':');
    if (process.getuid() !== 0 || nobody.length < 4) return t.skip('needs root and the user nobody');
    const dir = tempDir();
    chmodSync(dir.path, 0o755);
    const app = dir.file('app.mjs');
    writeFileSync(app, 'export default { fetch: () => Response.json({ pid: process.pid, uid: process.getuid() }) };\n');
    chmodSync(app, 0o644);
    const port = privilegedPort();
    try {
      await withServer(['--workers=2', '--reuse-port', '--host=127.0.0.1', `--port=${port}`, '--user=nobody', app], { listen: false }, async (server) => {
        const workers = await waitForWorkers(server.pid, 2);
        await ownSockets(server.pid, port, workers);
        const seen = await seenWorkers(port, 2, 10000);
        assert.deepEqual(new Set(seen), new Set(workers));
        assert.equal((await get(port)).json.uid, Number(nobody[2]));
      });
    } finally {
      dir.remove();
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
