// The container of docs/deploy.md without Docker: the Dockerfile's command line (its CMD, with its
// ENV) runs as PID 1 of a new PID namespace (unshare, as root), in a folder laid out as the
// image's /srv/app, on a loopback address. As PID 1 starlight serves; HUP restarts its workers; a
// worker killed with KILL is replaced and reaped; TERM to PID 1 from outside the namespace, and INT
// to its process group (Ctrl-C in `docker run -it`), stop it gracefully, a request in flight
// answered, exit status 0. An orphan of the app's (a grandchild re-parented to PID 1) stays a
// zombie under starlight, and is reaped with tini in front (`docker run --init`), which still
// passes TERM on for the same graceful stop.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { appFolder, dockerfile, optionValue } from '../helpers/deploy-doc.mjs';
import { APP_LIB, Client, assertNoZombies, childPids, get, isAlive, procStat, sleep, waitFor, waitForWorkers } from '../helpers/process.mjs';
import { cleanEnv } from '../helpers/server.mjs';
import { exitWithin, settle } from '../helpers/wait.mjs';

const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;
const unshareSkip = canUnshare ? false : 'needs root and unshare(1) with PID namespaces (util-linux), to run the command line as PID 1';
const tiniSkip = unshareSkip || (spawnSync('tini', ['--version']).status === 0 ? false : 'needs tini (Debian package tini), the init of `docker run --init`');

/** "Your app" (main.mjs): the test app (its /slow), and /orphan, which leaves a grandchild to PID 1. */
const MAIN = `import { spawn } from 'node:child_process';
import { makeApp } from ${JSON.stringify(APP_LIB)};

const app = makeApp('v1');
export default {
  fetch(request, context) {
    // The shell exits at once; its background sleep goes on, re-parented to PID 1.
    if (new URL(request.url).pathname === '/orphan') spawn('sh', ['-c', 'sleep 0.3 &'], { stdio: 'ignore' });
    return app.fetch(request, context);
  },
};
`;

/** The command name of `pid` (/proc/PID/stat's second field). */
const commandName = (pid) => {
  try {
    return /\((.*)\)/.exec(readFileSync(`/proc/${pid}/stat`, 'latin1'))[1];
  } catch {
    return null;
  }
};

/**
 * Runs the Dockerfile's CMD (after `init`, e.g. ['tini', '--']) as PID 1 of a new PID namespace in
 * `dir`, and resolves once it serves: { pid1 (its pid out here), port, stderr(), exited, stop() }.
 */
async function startAsPid1(dir, init = []) {
  const { env, cmd } = dockerfile();
  const imageEnv = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value.replaceAll('/srv/app', dir.path).replaceAll('$PATH', process.env.PATH)]));
  // The test's own: a loopback address and a port of the system's choosing.
  const childEnv = { ...cleanEnv(), ...imageEnv, PORT: '0', STARLIGHT_HOST: '127.0.0.1' };
  // Its own process group: INT to the group reaches PID 1 and the workers, as a terminal's Ctrl-C does (unshare ignores it).
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--', ...init, ...cmd], { cwd: dir.path, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (data) => (stderr += data));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let pid1 = null;
  const stop = async () => {
    if ((await exitWithin(exited, 0)) !== null) return;
    if (pid1 !== null) process.kill(pid1, 'SIGKILL'); // the namespace's init: every process in it goes too
    child.kill('SIGKILL');
    await exited;
  };
  try {
    pid1 = await waitFor(() => childPids(child.pid)[0], { message: 'the namespace\'s PID 1' });
    const nsPid = readFileSync(`/proc/${pid1}/status`, 'latin1').match(/^NSpid:\s+(.*)$/m)[1].trim().split(/\s+/);
    assert.deepEqual(nsPid, [String(pid1), '1'], 'PID 1 in its namespace');
    const port = await waitFor(() => Number(/Accepting connections at http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr)?.[1] ?? 0), { timeoutMs: 15000, message: () => `the banner; stderr:\n${stderr}` });
    return { pid1, port, stderr: () => stderr, exited, stop, pgid: child.pid };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Sends `signal` while a 1.5 s request is in flight; asserts that it is answered 200 and that PID 1 exits 0. */
async function assertGracefulStop(container, signal, target) {
  const client = await Client.open(container.port);
  try {
    const inFlight = settle(client.request('/slow?ms=1500'));
    await sleep(300);
    process.kill(target, signal);
    const { response, error } = await inFlight;
    assert.equal(error, undefined, `the request in flight: ${error?.message}`);
    assert.equal(response.status, 200);
    assert.deepEqual(await container.exited, { code: 0, signal: null }, `exit status 0; stderr:\n${container.stderr()}`);
  } finally {
    client.destroy();
  }
}

/** The processes under `pid` (its children, their children...), as { pid, state, name }. */
function descendants(pid) {
  return childPids(pid).flatMap((child) => [{ pid: child, state: procStat(child)?.state, name: commandName(child) }, ...descendants(child)]);
}

test('docs/deploy.md: the Dockerfile runs starlight in exec form as PID 1, stopped by TERM within Docker\'s 10 s', () => {
  const { cmd, stopSignal, env } = dockerfile();
  assert.equal(cmd[0], 'starlight');
  assert.equal(stopSignal, 'SIGTERM');
  assert.ok(Number(optionValue(cmd, 'graceful-timeout')) < 10, '--graceful-timeout below docker stop\'s default 10 s');
  assert.ok(env.PATH.startsWith('/srv/app/node_modules/.bin:'), 'starlight found on PATH');
});

describe('the image\'s command line as PID 1', { skip: unshareSkip }, () => {
  test('serves, restarts on HUP, reaps its workers, leaves orphans as zombies; TERM stops it gracefully, exit 0', { timeout: 40000 }, async () => {
    const dir = appFolder(MAIN);
    const container = await startAsPid1(dir);
    try {
      assert.equal((await get(container.port, '/healthz')).body, 'ok\n');
      assert.equal((await get(container.port, '/')).status, 200);
      const workers = await waitForWorkers(container.pid1, 2, 15000);

      process.kill(container.pid1, 'SIGHUP');
      const fresh = await waitFor(() => {
        const pids = childPids(container.pid1).filter(isAlive);
        return pids.length === 2 && pids.every((pid) => !workers.includes(pid)) ? pids : null;
      }, { timeoutMs: 15000, message: () => `two new workers after HUP (had ${workers})` });

      process.kill(fresh[0], 'SIGKILL');
      await waitFor(() => {
        const pids = childPids(container.pid1).filter(isAlive);
        return pids.length === 2 && !pids.includes(fresh[0]);
      }, { timeoutMs: 15000, message: 'the killed worker replaced' });
      await assertNoZombies(container.pid1, 'after a worker was killed');
      assert.equal((await get(container.port, '/')).status, 200);

      await get(container.port, '/orphan');
      const orphan = await waitFor(() => descendants(container.pid1).find((child) => child.name === 'sleep' && child.state === 'Z'), { message: () => `the orphaned sleep a zombie under PID 1: ${JSON.stringify(descendants(container.pid1))}` });
      assert.equal(procStat(orphan.pid).ppid, container.pid1, 'the orphan was re-parented to PID 1');
      await sleep(1000);
      assert.equal(procStat(orphan.pid)?.state, 'Z', 'a second later, still not reaped');

      await assertGracefulStop(container, 'SIGTERM', container.pid1);
    } finally {
      await container.stop();
      dir.remove();
    }
  });

  test('INT to its process group (Ctrl-C in docker run -it): a graceful stop, exit 0', { timeout: 30000 }, async () => {
    const dir = appFolder(MAIN);
    const container = await startAsPid1(dir);
    try {
      await waitForWorkers(container.pid1, 2, 15000);
      await assertGracefulStop(container, 'SIGINT', -container.pgid);
    } finally {
      await container.stop();
      dir.remove();
    }
  });

  test('with tini as PID 1 (docker run --init): the orphan is reaped; TERM still stops starlight gracefully, exit 0', { timeout: 30000, skip: tiniSkip }, async () => {
    const dir = appFolder(MAIN);
    const container = await startAsPid1(dir, ['tini', '--']);
    try {
      const [master] = childPids(container.pid1);
      await waitForWorkers(master, 2, 15000);
      await get(container.port, '/orphan');
      // It may come and go between two looks: found or not, it must end up gone, never a zombie.
      const seen = new Set();
      await waitFor(() => {
        for (const child of descendants(container.pid1)) if (child.name === 'sleep') seen.add(child.pid);
        return seen.size > 0 || null;
      }, { message: 'the orphaned sleep' });
      await waitFor(() => [...seen].every((pid) => procStat(pid) === null), { timeoutMs: 5000, message: () => `the orphan reaped: ${JSON.stringify(descendants(container.pid1))}` });
      await assertGracefulStop(container, 'SIGTERM', container.pid1);
    } finally {
      await container.stop();
      dir.remove();
    }
  });
});
