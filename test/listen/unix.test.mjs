// UNIX sockets (SPEC §1.3): every listen form at once with one banner line each, --socket's
// stale-file rule, --socket-mode, abstract sockets, and who removes a socket file (the master
// that bound it, at its stop; never a worker). Real processes, requests over the sockets.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { APP, tempDir, waitFor } from '../helpers/process.mjs';
import { startServer } from '../helpers/server.mjs';
import { unixGet } from '../helpers/unix.mjs';

const NODE_APP = fileURLToPath(new URL('../fixtures/node-app.mjs', import.meta.url));

/** The banner lines once `n` are out. */
const bannerLines = (server, n) =>
  waitFor(
    () => {
      if (server.exit !== null) throw new Error(`starlight exited:\n${server.stderr}`);
      const lines = server.stderr.split('\n').filter((line) => line.includes('Accepting connections at'));
      return lines.length >= n ? lines : null;
    },
    { timeoutMs: 15000, message: () => `${n} banner lines; stderr:\n${server.stderr}` },
  );

/** A server listening on the socket file at `path` in this process (a live server there); close() stops it. */
function liveServer(path) {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => socket.destroy());
    server.listen(path, () => resolve(server));
  });
}

/** A socket file left at `path` by a server that is gone: bound by a child process that is SIGKILLed. */
async function staleSocket(path) {
  const { spawnSync } = await import('node:child_process');
  const script = `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  spawnSync(process.execPath, ['-e', script], { timeout: 10000 });
  assert.ok(statSync(path).isSocket(), 'the stale socket file was left');
}

describe('UNIX sockets', () => {
  test('every listen form at once, one banner line each, each served', async () => {
    const dir = tempDir();
    const name = `starlight-test-${process.pid}-${Date.now()}`;
    const server = await startServer(
      ['--workers=2', `--listen=unix:${dir.file('a.sock')}`, `--listen=${dir.file('b.sock')}`, `--listen=@${name}`, '--listen=[::1]:0', `--socket=${dir.file('c.sock')}`, APP],
      { timeoutMs: 15000 },
    );
    try {
      const lines = await bannerLines(server, 6);
      assert.equal(lines.length, 6, lines.join('\n'));
      for (const where of [`http://unix:${dir.file('a.sock')}:/`, `http://unix:${dir.file('b.sock')}:/`, `http://unix:@${name}:/`, `http://unix:${dir.file('c.sock')}:/`, 'http://127.0.0.1:', 'http://[::1]:']) {
        assert.equal(lines.filter((line) => line.includes(where)).length, 1, `${where} in\n${lines.join('\n')}`);
      }
      for (const path of [dir.file('a.sock'), dir.file('b.sock'), `\0${name}`, dir.file('c.sock')]) {
        const { status, json } = await unixGet(path, '/over-unix');
        assert.equal(status, 200);
        assert.equal(json.path, '/over-unix');
      }
      assert.equal(statSync(dir.file('a.sock')).isSocket(), true);
    } finally {
      await server.stop();
      dir.remove();
    }
  });

  test('a Node (req, res) app over a UNIX socket: its request, and no peer address', async () => {
    const dir = tempDir();
    const server = await startServer(['--workers=2', `--socket=${dir.file('node.sock')}`, NODE_APP], { timeoutMs: 15000 });
    try {
      await bannerLines(server, 2);
      const { status, json } = await unixGet(dir.file('node.sock'), '/inspect');
      assert.equal(status, 200);
      assert.equal(json.url, '/inspect');
      // req.socket.remoteAddress undefined (JSON null), remotePort undefined: a UNIX peer has none
      assert.deepEqual(json.remote, [null, 'undefined']);
    } finally {
      await server.stop();
      dir.remove();
    }
  });

  test('the abstract socket has no file, and is reachable by net.connect({ path: "\\0name" })', async () => {
    const name = `starlight-abstract-${process.pid}-${Date.now()}`;
    const server = await startServer(['--workers=1', `--socket=@${name}`, APP], { timeoutMs: 15000 });
    try {
      await bannerLines(server, 2);
      const answer = await new Promise((resolve, reject) => {
        const socket = net.connect({ path: `\0${name}` }, () => socket.end('GET /abstract HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
        let data = '';
        socket.on('data', (chunk) => (data += chunk));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 200 OK/);
      assert.match(answer, /"path":"\/abstract"/);
      assert.match(readFileSync('/proc/net/unix', 'latin1'), new RegExp(`@${name}`));
    } finally {
      await server.stop();
    }
  });

  test('--socket-mode sets the file mode before it is listened on', async () => {
    const dir = tempDir();
    const server = await startServer(['--workers=1', `--socket=${dir.file('s.sock')}`, '--socket-mode=640', APP], { timeoutMs: 15000 });
    try {
      await bannerLines(server, 2);
      assert.equal(statSync(dir.file('s.sock')).mode & 0o777, 0o640);
    } finally {
      await server.stop();
      dir.remove();
    }
  });

  test("a dead server's socket file is replaced", async () => {
    const dir = tempDir();
    const path = dir.file('stale.sock');
    await staleSocket(path);
    const server = await startServer(['--workers=1', `--socket=${path}`, APP], { timeoutMs: 15000 });
    try {
      await bannerLines(server, 2);
      assert.equal((await unixGet(path)).status, 200);
    } finally {
      await server.stop();
      dir.remove();
    }
  });

  test("a live server's socket is an error naming the path, before any worker loads the app, and is left serving", async () => {
    const dir = tempDir();
    const path = dir.file('live.sock');
    const live = await liveServer(path);
    try {
      const server = await startServer(['--workers=1', `--socket=${path}`, APP], { wait: 'none', env: { PROCESS_APP_LOG: dir.file('loads') } });
      const exit = await server.exited;
      assert.equal(exit.code, 1, server.stderr);
      assert.equal(existsSync(dir.file('loads')), false, 'the master binds before any worker starts');
      assert.match(server.stderr, new RegExp(`cannot listen on ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: another server is listening on it`));
      assert.equal(statSync(path).isSocket(), true);
      await new Promise((resolve, reject) => net.connect({ path }).on('connect', resolve).on('error', reject));
    } finally {
      live.close();
      dir.remove();
    }
  });

  test('a file that is not a socket is an error, and is left untouched', async () => {
    const dir = tempDir();
    const path = dir.file('not-a-socket');
    writeFileSync(path, 'precious');
    try {
      const server = await startServer(['--workers=1', `--socket=${path}`, APP], { wait: 'none' });
      const exit = await server.exited;
      assert.equal(exit.code, 1, server.stderr);
      assert.match(server.stderr, /the file exists and is not a socket/);
      assert.equal(readFileSync(path, 'utf8'), 'precious');
    } finally {
      dir.remove();
    }
  });

  for (const workers of [1, 2, 0]) {
    test(`--workers=${workers}: a worker's exit or recycling leaves the socket file; the master's exit removes it`, async () => {
      const dir = tempDir();
      const path = dir.file('owned.sock');
      const server = await startServer([`--workers=${workers}`, '--max-reqs-per-child=2', `--socket=${path}`, APP], { timeoutMs: 15000 });
      try {
        await bannerLines(server, 2);
        // Enough requests that every worker reaches its limit and is replaced.
        const pids = new Set();
        for (let i = 0; i < 6; i++) pids.add((await unixGet(path)).json.pid);
        if (workers > 0) assert.ok(pids.size >= 2, `workers were recycled (saw ${[...pids].join(', ')})`);
        assert.equal(existsSync(path), true, 'the socket file outlives the workers');
        if (workers > 0) {
          // A worker killed outright: its replacement serves on the same file.
          process.kill([...pids].at(-1), 'SIGKILL');
          await waitFor(async () => (await unixGet(path).catch(() => null))?.status === 200, { timeoutMs: 10000 });
          assert.equal(existsSync(path), true);
        }
        const exit = await server.stop();
        assert.equal(exit.code, 0, server.stderr);
        assert.equal(existsSync(path), false, 'the master removed its socket file at its exit');
      } finally {
        await server.stop();
        dir.remove();
      }
    });
  }
});
