// Where starlight listens (SPEC §1.3): the listen-spec grammar (a spec that is not one is refused
// when the options are read, not when binding), --listen together with an explicit --host/--port,
// the sockets handed down by a process manager (read as fd://N specs, and their variables
// removed), and --reuse-port's refusal on a Node without it. (Serving on each kind:
// test/listen/.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { helpText } from '../../dist/cli/help.js';
import { parseCommandLine } from '../../dist/cli/parse.js';
import { parseListenSpec } from '../../dist/config/listen.js';
import { UsageError } from '../../dist/config/resolve.js';
import { appMayDecideListeners, listenSpecs, refuseUnsupportedListening, takeInheritedSockets } from '../../dist/listen/address.js';
import { waitFor } from '../helpers/process.mjs';
import { startServer } from '../helpers/server.mjs';

const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
const APP = fileURLToPath(new URL('../fixtures/process-app.mjs', import.meta.url));

describe('listen specs', () => {
  test('the grammar: TCP, UNIX (path, abstract) and descriptor forms', () => {
    assert.deepEqual(parseListenSpec('127.0.0.1:80'), { kind: 'tcp', host: '127.0.0.1', port: 80 });
    assert.deepEqual(parseListenSpec(':8080'), { kind: 'tcp', host: undefined, port: 8080 });
    assert.deepEqual(parseListenSpec('[::1]:0'), { kind: 'tcp', host: '::1', port: 0 });
    assert.deepEqual(parseListenSpec('localhost:5000'), { kind: 'tcp', host: 'localhost', port: 5000 });
    assert.deepEqual(parseListenSpec('unix:/run/app.sock'), { kind: 'unix', path: '/run/app.sock' });
    assert.deepEqual(parseListenSpec('./app.sock'), { kind: 'unix', path: './app.sock' });
    assert.deepEqual(parseListenSpec('@app'), { kind: 'unix', path: '\0app' });
    assert.deepEqual(parseListenSpec('unix:@app'), { kind: 'unix', path: '\0app' });
    assert.deepEqual(parseListenSpec('fd://3'), { kind: 'fd', fd: 3 });
    for (const [spec, why] of [
      ['80', /expected HOST:PORT, :PORT, \[IPV6\]:PORT, unix:PATH, a path with \/, @NAME \(a Linux abstract socket\) or fd:\/\/N \(an inherited descriptor\)/],
      [':65536', /the port must be an integer from 0 to 65535/],
      ['[127.0.0.1]:80', /127\.0\.0\.1 is not an IPv6 address/],
      ['::1:80', /write IPv6 addresses in brackets, \[::1\]:PORT/],
      ['unix:', /unix: needs a path/],
      ['fd://x', /fd:\/\/ needs a descriptor number/],
    ]) {
      assert.throws(() => parseListenSpec(spec), { message: why }, spec);
    }
  });

  test('every form is taken when the options are read (command line, environment); a spec that is not one is a usage error', () => {
    const listen = (argv, env = {}) => parseCommandLine(argv, env).options.listen;
    assert.deepEqual(listen(['--listen=unix:/tmp/s', '-l', '@name', '-l/tmp/s', '--listen', 'fd://3']), ['unix:/tmp/s', '@name', '/tmp/s', 'fd://3']);
    assert.deepEqual(listen([], { STARLIGHT_LISTEN: ':80,fd://3' }), [':80', 'fd://3']);
    assert.deepEqual(listen(['-l', ':81', '--listen=[::1]:0']), [':81', '[::1]:0']);
    assert.throws(() => parseCommandLine(['--listen=nowhere'], {}), (error) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.equal(error.exitCode, 2);
      assert.equal(error.message, '--listen: "nowhere": expected HOST:PORT, :PORT, [IPV6]:PORT, unix:PATH, a path with /, @NAME (a Linux abstract socket) or fd://N (an inherited descriptor)');
      return true;
    });
  });

  test('--help lists every form', () => {
    const help = helpText().replace(/\n +/g, ' ');
    assert.match(help, /--listen=SPEC +listen on SPEC \(repeatable\): HOST:PORT, :PORT, \[IPV6\]:PORT, unix:PATH, a path with \/, @NAME \(a Linux abstract socket\) or fd:\/\/N \(an inherited descriptor\)\./);
  });

  test('--socket: a path, or a name without / (unix:NAME), or @NAME', () => {
    const specs = (socket) => listenSpecs({ listen: [], socket, host: undefined, port: 5000 }, new Set());
    assert.deepEqual(specs('/run/app.sock'), [{ kind: 'unix', path: '/run/app.sock' }]);
    assert.deepEqual(specs('app.sock'), [{ kind: 'unix', path: 'app.sock' }]);
    assert.deepEqual(specs('@app'), [{ kind: 'unix', path: '\0app' }]);
  });

  test('--reuse-port is refused (exit 2) naming the Node it needs, on a Node without it, and off Linux', () => {
    assert.doesNotThrow(() => refuseUnsupportedListening({ reusePort: false }, 'v20.20.2', 'darwin'));
    for (const version of ['v22.12.0', 'v23.1.0', 'v24.0.0']) assert.doesNotThrow(() => refuseUnsupportedListening({ reusePort: true }, version, 'linux'));
    for (const version of ['v20.20.2', 'v22.11.0', 'v23.0.0']) {
      assert.throws(() => refuseUnsupportedListening({ reusePort: true }, version, 'linux'), {
        exitCode: 2,
        message: `--reuse-port needs Node 22.12 or later (23.1 or later on Node 23); this is Node ${version}`,
      });
    }
    for (const platform of ['darwin', 'freebsd', 'win32']) {
      assert.throws(() => refuseUnsupportedListening({ reusePort: true }, 'v24.0.0', platform), {
        exitCode: 2,
        message: `--reuse-port works only on Linux (only its SO_REUSEPORT deals connections over the sockets); this is ${platform}`,
      });
    }
  });
});

describe('listeners: --listen, and an explicit --host/--port adds its own', () => {
  const specs = (argv, env = {}) => {
    const { options, explicit } = parseCommandLine(argv, env);
    return listenSpecs(options, explicit);
  };
  const tcp = (host, port) => ({ kind: 'tcp', host, port });

  test('nothing given: the default port on all interfaces', () => {
    assert.deepEqual(specs([]), [tcp(undefined, 5000)]);
    assert.deepEqual(specs(['--host=127.0.0.1']), [tcp('127.0.0.1', 5000)]);
  });

  test('--listen only: those listeners, no default port', () => {
    assert.deepEqual(specs(['--listen=127.0.0.1:81', '-l', ':82']), [tcp('127.0.0.1', 81), tcp(undefined, 82)]);
    assert.deepEqual(specs([], { STARLIGHT_LISTEN: ':81' }), [tcp(undefined, 81)]);
  });

  test('--listen with an explicit --port, --host, STARLIGHT_PORT or PORT: their listener too, first', () => {
    assert.deepEqual(specs(['--port=8080', '--listen=127.0.0.1:81']), [tcp(undefined, 8080), tcp('127.0.0.1', 81)]);
    assert.deepEqual(specs(['--host=::1', '--listen=:81']), [tcp('::1', 5000), tcp(undefined, 81)]);
    assert.deepEqual(specs(['-l', ':81'], { STARLIGHT_PORT: '7000' }), [tcp(undefined, 7000), tcp(undefined, 81)]);
    assert.deepEqual(specs(['-l', ':81'], { PORT: '6000' }), [tcp(undefined, 6000), tcp(undefined, 81)]);
  });

  test("an app's own port is a default: it adds no listener to --listen", () => {
    const { options, explicit } = parseCommandLine(['--listen=:81'], {});
    assert.deepEqual(listenSpecs({ ...options, port: 3000, host: '127.0.0.1' }, explicit), [tcp(undefined, 81)]);
    assert.deepEqual(listenSpecs({ ...options, listen: [], port: 3000 }, explicit), [tcp(undefined, 3000)]);
  });

  test("the listeners are known before the app loads unless its port or hostname may decide them", () => {
    const decides = (argv, env = {}) => {
      const { options, explicit } = parseCommandLine(argv, env);
      return appMayDecideListeners(options, explicit);
    };
    assert.equal(decides([]), true);
    assert.equal(decides(['--port=80']), true, 'the app may export its hostname');
    assert.equal(decides(['--host=::1']), true, 'the app may export its port');
    assert.equal(decides(['--host=::1', '--port=80']), false);
    assert.equal(decides(['--listen=:81']), false);
    assert.equal(decides(['--socket=/tmp/s']), false);
    assert.equal(decides(['--listen=:81'], { PORT: '80' }), true);
  });

  test('a real server: --port and --listen both serve', { timeout: 30_000 }, async () => {
    // startServer gives --host=127.0.0.1 --port=0
    const server = await startServer(['--workers=2', '--listen=127.0.0.1:0', APP], { timeoutMs: 15_000 });
    try {
      const ports = await waitFor(() => {
        const found = [...server.stderr.matchAll(/Accepting connections at http:\/\/127\.0\.0\.1:(\d+)\//g)].map((m) => Number(m[1]));
        return found.length === 2 ? found : null;
      }, { timeoutMs: 5000, message: () => `two banner lines; stderr:\n${server.stderr}` });
      assert.notEqual(ports[0], ports[1]);
      for (const port of ports) {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        assert.equal(response.status, 200, `port ${port}`);
        await response.arrayBuffer();
      }
    } finally {
      await server.stop();
    }
  });
});

describe('sockets handed down by a process manager', () => {
  const PID = 4242;

  test('systemd (LISTEN_FDS with LISTEN_PID naming this process): fd://3 on, named by LISTEN_FDNAMES, and the variables are removed', () => {
    const env = { LISTEN_PID: String(PID), LISTEN_FDS: '3', LISTEN_FDNAMES: 'http:https:admin', OTHER: 'kept' };
    const http = new Map([[3, 'http'], [4, 'https'], [5, 'admin']]);
    assert.deepEqual(takeInheritedSockets(env, PID), { specs: ['fd://3', 'fd://4', 'fd://5'], names: http });
    assert.deepEqual(env, { OTHER: 'kept' });
    // No names, or an empty one: those descriptors go unnamed.
    assert.deepEqual(takeInheritedSockets({ LISTEN_PID: String(PID), LISTEN_FDS: '2' }, PID), { specs: ['fd://3', 'fd://4'], names: new Map() });
    assert.deepEqual(takeInheritedSockets({ LISTEN_PID: String(PID), LISTEN_FDS: '2', LISTEN_FDNAMES: ':web' }, PID).names, new Map([[4, 'web']]));
    // As many names as descriptors, or a usage error saying so.
    assert.throws(() => takeInheritedSockets({ LISTEN_PID: String(PID), LISTEN_FDS: '2', LISTEN_FDNAMES: 'web' }, PID), {
      exitCode: 2,
      message: 'LISTEN_FDNAMES=web: names 1 descriptors, LISTEN_FDS=2 (one name each, separated by :)',
    });
  });

  test('Server::Starter (SERVER_STARTER_PORT): each PORT=FD or HOST:PORT=FD, and the variable is removed', () => {
    const env = { SERVER_STARTER_PORT: '127.0.0.1:5000=3;8080=4;[::1]:81=6' };
    assert.deepEqual(takeInheritedSockets(env, PID), { specs: ['fd://3', 'fd://4', 'fd://6'], names: new Map() });
    assert.deepEqual(env, {});
    assert.throws(() => takeInheritedSockets({ SERVER_STARTER_PORT: '127.0.0.1:5000' }, PID), { exitCode: 2, message: /expected PORT=FD or HOST:PORT=FD/ });
    assert.throws(() => takeInheritedSockets({ LISTEN_PID: String(PID), LISTEN_FDS: 'x' }, PID), { exitCode: 2, message: /LISTEN_FDS=x/ });
  });

  test('none where they are not meant for this process: another pid, no LISTEN_PID, no descriptors', () => {
    for (const env of [
      {},
      { LISTEN_PID: '1', LISTEN_FDS: '1' },
      { LISTEN_FDS: '1' },
      { LISTEN_PID: String(PID), LISTEN_FDS: '0' },
      { LISTEN_PID: String(PID), LISTEN_FDS: '' },
      { SERVER_STARTER_PORT: '' },
    ]) {
      const before = JSON.stringify(env);
      const ours = env.LISTEN_PID === String(PID);
      assert.deepEqual(takeInheritedSockets(env, PID).specs, [], before);
      if (!ours) assert.equal(JSON.stringify(env), before, 'left for whom they are meant');
    }
  });

  test("a real server whose LISTEN_PID is another process's starts as usual", { timeout: 30_000 }, async () => {
    const server = await startServer(['--workers=1', APP], { env: { LISTEN_PID: '1', LISTEN_FDS: '1' }, timeoutMs: 15_000 });
    try {
      assert.equal((await fetch(server.url('/'))).status, 200);
    } finally {
      await server.stop();
    }
  });
});
