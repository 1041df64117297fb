// What starlight does on each platform (docs/deploy.md, Platforms): the decisions of
// config/platform.ts for 'linux', 'darwin' and 'win32', and a real starlight on this Linux
// machine taking the non-Linux code paths (process.platform made to read 'darwin' or 'win32' by
// a preloaded module): each refusal is a clear start error. No macOS or Windows machine runs
// here: what those systems themselves do is not tested.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pathToFileURL, fileURLToPath } from 'node:url';

import { daemonRefusal, identityRefusal, listenerRefusal, masterSignals } from '../../dist/config/platform.js';
import { parseListenSpec } from '../../dist/config/listen.js';
import { SIGNALS } from '../../dist/config/signals.js';
import { get, tempDir, waitFor } from '../helpers/process.mjs';
import { startServer } from '../helpers/server.mjs';
import { unixGet } from '../helpers/unix.mjs';

const APP = fileURLToPath(new URL('../fixtures/process-app.mjs', import.meta.url));
const FAKE_PLATFORM = pathToFileURL(fileURLToPath(new URL('../fixtures/fake-platform.mjs', import.meta.url))).href;

const spec = (text) => parseListenSpec(text);

describe('decisions by platform', () => {
  test('listeners: TCP everywhere; abstract sockets on Linux only; UNIX sockets and inherited descriptors not on Windows', () => {
    for (const platform of ['linux', 'darwin', 'win32']) {
      assert.equal(listenerRefusal(spec('127.0.0.1:8080'), platform), null, platform);
      assert.equal(listenerRefusal(spec('[::1]:8080'), platform), null, platform);
    }
    assert.equal(listenerRefusal(spec('@app'), 'linux'), null);
    assert.match(listenerRefusal(spec('@app'), 'darwin'), /abstract sockets \(@NAME\) exist only on Linux/);
    assert.match(listenerRefusal(spec('unix:@app'), 'win32'), /only on Linux/);
    for (const platform of ['linux', 'darwin']) {
      assert.equal(listenerRefusal(spec('unix:/run/app.sock'), platform), null, platform);
      assert.equal(listenerRefusal(spec('fd://3'), platform), null, platform);
    }
    assert.match(listenerRefusal(spec('unix:/run/app.sock'), 'win32'), /UNIX sockets are not supported on Windows/);
    assert.match(listenerRefusal(spec('fd://3'), 'win32'), /inherited descriptors/);
  });

  test('--user/--group and -D: refused on Windows only', () => {
    for (const platform of ['linux', 'darwin']) {
      assert.equal(identityRefusal(platform), null);
      assert.equal(daemonRefusal(platform), null);
    }
    assert.match(identityRefusal('win32'), /Windows has no POSIX users and groups/);
    assert.match(daemonRefusal('win32'), /^-D: /);
  });

  test('signals: every one on Linux and macOS; INT alone on Windows', () => {
    assert.deepEqual(masterSignals('linux'), SIGNALS);
    assert.deepEqual(masterSignals('darwin'), SIGNALS);
    assert.deepEqual(masterSignals('win32'), ['SIGINT']);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1', 'SIGUSR2']) assert.ok(SIGNALS.includes(signal), signal);
  });
});

/** starlight with `args` under the platform `platform` (null: this machine's own); resolves once it serves or has exited. */
function startOn(platform, args) {
  const env = platform === null ? {} : { NODE_OPTIONS: `--import=${FAKE_PLATFORM}`, FAKE_PLATFORM: platform };
  return startServer(['--workers=1', ...args, APP], { env, wait: 'banner-or-exit', timeoutMs: 15000 });
}

/** Waits for the banner line of the UNIX socket `shown` (as starlight writes its path). */
const unixBanner = (server, shown) => waitFor(() => server.stderr.includes(`http://unix:${shown}:/`), { timeoutMs: 15000, message: () => `the banner of ${shown}; stderr:\n${server.stderr}` });

/** Asserts that starlight under `platform` with `args` does not start, exiting `code` with `message`. */
async function assertRefused(platform, args, code, message) {
  const server = await startOn(platform, args);
  try {
    assert.equal(server.serving, false, `it does not serve; stderr:\n${server.stderr}`);
    assert.deepEqual(server.exit, { code, signal: null });
    assert.match(server.stderr, message);
  } finally {
    await server.stop();
  }
}

describe('a real starlight on the code paths of each platform', () => {
  test('an abstract socket: served on Linux, a start error on macOS and Windows', { timeout: 30000 }, async () => {
    const name = `starlight-platform-${process.pid}`;
    const server = await startOn(null, [`--listen=@${name}`]);
    try {
      await unixBanner(server, `@${name}`);
      assert.equal((await unixGet(`\0${name}`, '/abstract')).status, 200);
    } finally {
      await server.stop();
    }
    for (const platform of ['darwin', 'win32']) await assertRefused(platform, [`--listen=@${name}`], 1, /cannot listen on @starlight-platform-\d+: abstract sockets \(@NAME\) exist only on Linux/);
  });

  test('a UNIX socket file: served on Linux and on the macOS path, a start error on Windows', { timeout: 30000 }, async () => {
    const dir = tempDir();
    try {
      for (const platform of [null, 'darwin']) {
        const server = await startOn(platform, [`--listen=unix:${dir.file('app.sock')}`]);
        try {
          await unixBanner(server, dir.file('app.sock'));
          assert.equal((await get(server.port)).status, 200);
          assert.equal((await unixGet(dir.file('app.sock'), '/unix')).status, 200, `served over the socket (${platform ?? 'linux'})`);
        } finally {
          await server.stop();
        }
      }
      await assertRefused('win32', [`--listen=unix:${dir.file('app.sock')}`], 1, /UNIX sockets are not supported on Windows/);
    } finally {
      dir.remove();
    }
  });

  test('--user and -D on Windows: start errors naming the option', { timeout: 30000 }, async () => {
    await assertRefused('win32', ['--user=nobody'], 1, /--user and --group: Windows has no POSIX users and groups/);
    await assertRefused('win32', ['-D'], 2, /-D: Windows has no POSIX sessions/);
  });
});
