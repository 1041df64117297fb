// Inherited listening sockets (SPEC §2): a launcher that binds and hands fd 3 down as systemd
// does (LISTEN_FDS, LISTEN_PID naming the process it execs), fd://N, and Debian's start_server
// (Server::Starter) restarting starlight on HUP under a bounded load with zero failed requests.
// Real processes; each is stopped by its pid.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { APP, get, isAlive, startLoad, tempDir, waitFor, exitWithin, childPids } from '../helpers/process.mjs';
import { BIN, cleanEnv } from '../helpers/server.mjs';
import { unixGet } from '../helpers/unix.mjs';
import { freePort } from '../helpers/ports.mjs';

/** An app that says which process served, and what it sees of the handing-down variables. */
const ENV_APP =
  'export default { fetch: () => Response.json({ pid: process.pid, ' +
  'seen: ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "SERVER_STARTER_PORT"].filter((name) => name in process.env) }) }';

/**
 * The launcher: binds a listening socket (TCP on 127.0.0.1, or UNIX at a path), puts it at
 * fd 3, and execs starlight (exec keeps its pid); with `systemd`, it sets LISTEN_FDS=1,
 * LISTEN_PID=its own pid and LISTEN_FDNAMES as systemd does. It prints `PORT n` first.
 */
const LAUNCHER = `
import os, socket, sys
kind, systemd, args = sys.argv[1], sys.argv[2] == '1', sys.argv[3:]
if kind == 'tcp':
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(kind)
s.listen(128)
print('PORT', s.getsockname()[1] if kind == 'tcp' else 0, flush=True)
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
env = dict(os.environ)
if systemd:
    env.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES='web')
os.execve(args[0], args, env)
`;

const hasPython = spawnSync('python3', ['--version']).status === 0;
const hasStartServer = spawnSync('start_server', ['--version']).status === 0;

/** Runs starlight through the launcher; resolves once a banner line is out, with { child, port, output(), stop() }. */
async function launch(kind, systemd, args) {
  const child = spawn('python3', ['-c', LAUNCHER, kind, systemd ? '1' : '0', process.execPath, BIN, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const server = {
    child,
    output: () => output,
    get port() {
      return Number(/^PORT (\d+)/m.exec(output)?.[1]);
    },
    async stop() {
      const workers = childPids(child.pid);
      child.kill('SIGTERM');
      if ((await exitWithin(exited, 5000)) === null) child.kill('SIGKILL');
      for (const pid of workers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      return exited;
    },
  };
  try {
    await waitFor(() => output.includes('Accepting connections at'), { timeoutMs: 15000, message: () => `a banner; output:\n${output}` });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

describe('inherited sockets', { skip: hasPython ? false : 'python3 is not installed (the launcher that hands fd 3 down is a python3 script)' }, () => {
  test('systemd socket activation: LISTEN_FDS=1 with LISTEN_PID = the pid, the only listener, its LISTEN_FDNAMES name in the banner; the workers see no variable', async () => {
    const server = await launch('tcp', true, ['--workers=2', '-e', ENV_APP]);
    try {
      const banners = server.output().split('\n').filter((line) => line.includes('Accepting connections at'));
      assert.deepEqual(banners.map((line) => line.replace(/^.*Accepting connections at /, '')), [`http://127.0.0.1:${server.port}/ (fd://3 named web) (2 workers)`]);
      const pids = new Set();
      for (let i = 0; i < 6; i++) {
        const { status, json } = await get(server.port);
        assert.equal(status, 200);
        assert.deepEqual(json.seen, [], 'the variables are removed before the workers start');
        pids.add(json.pid);
      }
      assert.ok(!pids.has(server.child.pid), 'the workers serve');
      assert.doesNotMatch(server.output(), /Accepting connections at http:\/\/\[?(::|0\.0\.0\.0)/, 'no default port of its own');
    } finally {
      await server.stop();
    }
  });

  test('systemd socket activation with --listen as well: both serve', async () => {
    const server = await launch('tcp', true, ['--workers=1', '--listen=127.0.0.1:0', '-e', ENV_APP]);
    try {
      const other = Number(/Accepting connections at http:\/\/127\.0\.0\.1:(\d+)\/ \(1 worker\)/.exec(server.output())?.[1]);
      assert.ok(other > 0 && other !== server.port, server.output());
      assert.equal((await get(server.port)).status, 200);
      assert.equal((await get(other)).status, 200);
    } finally {
      await server.stop();
    }
  });

  test('fd://3, a UNIX socket: served, and its file is left to whoever made it', async () => {
    const dir = tempDir();
    const path = dir.file('inherited.sock');
    const server = await launch(path, false, ['--workers=1', '--listen=fd://3', '-e', ENV_APP]);
    try {
      assert.match(server.output(), /Accepting connections at fd:\/\/3 \(a UNIX socket\) \(1 worker\)/);
      assert.equal((await unixGet(path)).status, 200);
      const exit = await server.stop();
      assert.equal(exit.code, 0, server.output());
      assert.equal(existsSync(path) && statSync(path).isSocket(), true, 'starlight did not bind it, so it does not remove it');
    } finally {
      await server.stop();
      dir.remove();
    }
  });

  test('--workers=0 on fd://3 from systemd', async () => {
    const server = await launch('tcp', true, ['--workers=0', '-e', ENV_APP]);
    try {
      assert.match(server.output(), new RegExp(`Accepting connections at http://127\\.0\\.0\\.1:${server.port}/ \\(fd://3 named web\\) \\(no workers`));
      const { json } = await get(server.port);
      assert.equal(json.pid, server.child.pid);
      assert.deepEqual(json.seen, []);
    } finally {
      await server.stop();
    }
  });
});

describe('Server::Starter', { skip: hasStartServer ? false : 'start_server is not installed (Debian package libserver-starter-perl; .ci/run installs it)' }, () => {
  test('start_server runs starlight on its socket; a HUP starts a new starlight and retires the old under load: zero failed requests', { timeout: 60000 }, async () => {
    const port = await freePort();
    const child = spawn('start_server', [`--port=127.0.0.1:${port}`, '--interval=1', '--', process.execPath, BIN, '--workers=2', APP], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const starlights = () => childPids(child.pid);
    try {
      await waitFor(() => output.includes(`Accepting connections at http://127.0.0.1:${port}/ (fd://`), { timeoutMs: 15000, message: () => `a banner; output:\n${output}` });
      const [first] = starlights();
      // New connections only: an idle keep-alive connection is closed at the old starlight's TERM
      // (SPEC §2), which a client whose next request crossed that close must send again.
      const load = startLoad(port, { keepAlive: 0, oneShot: 4 });
      await waitFor(() => load.stats.ok >= 20, { timeoutMs: 10000, message: 'requests served before the HUP' });
      const before = new Set(load.stats.pids.keys());
      child.kill('SIGHUP');
      // The new starlight serves, and the old one is gone.
      await waitFor(() => !isAlive(first) && [...load.stats.pids.keys()].some((pid) => !before.has(pid)), {
        timeoutMs: 20000,
        message: () => `a new generation serving and the old one gone; output:\n${output}`,
      });
      const okAfter = load.stats.ok;
      await waitFor(() => load.stats.ok >= okAfter + 20, { timeoutMs: 10000, message: 'requests served after the restart' });
      const stats = await load.stop();
      assert.deepEqual(stats.failures, [], `zero failed requests (${stats.ok} ok)`);
      assert.ok(stats.ok > 40);
    } finally {
      const pids = [...starlights(), ...starlights().flatMap((pid) => childPids(pid))];
      child.kill('SIGTERM');
      if ((await exitWithin(exited, 10000)) === null) child.kill('SIGKILL');
      for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
