// Where starlight listens (SPEC §1.3): the listen-spec grammar and which forms are built (refused
// when the options are read, not when binding), --listen together with an explicit --host/--port,
// and sockets handed down by a process manager, which are refused rather than ignored.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { helpText } from '../../dist/cli/help.js';
import { parseCommandLine } from '../../dist/cli/parse.js';
import { parseListenSpec } from '../../dist/config/listen.js';
import { UsageError } from '../../dist/config/resolve.js';
import { listenSpecs, refuseInheritedSockets } from '../../dist/listen/address.js';
import { waitFor } from '../helpers/process.mjs';
import { startServer } from '../helpers/server.mjs';

const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
const APP = fileURLToPath(new URL('../fixtures/process-app.mjs', import.meta.url));

describe('listen specs', () => {
  test('the grammar: TCP forms, and the forms of kinds not built yet', () => {
    assert.deepEqual(parseListenSpec('127.0.0.1:80'), { kind: 'tcp', host: '127.0.0.1', port: 80 });
    assert.deepEqual(parseListenSpec(':8080'), { kind: 'tcp', host: undefined, port: 8080 });
    assert.deepEqual(parseListenSpec('[::1]:0'), { kind: 'tcp', host: '::1', port: 0 });
    assert.deepEqual(parseListenSpec('localhost:5000'), { kind: 'tcp', host: 'localhost', port: 5000 });
    assert.deepEqual(parseListenSpec('unix:/run/app.sock'), { kind: 'unix', path: '/run/app.sock' });
    assert.deepEqual(parseListenSpec('./app.sock'), { kind: 'unix', path: './app.sock' });
    assert.deepEqual(parseListenSpec('@app'), { kind: 'unix', path: '\0app' });
    assert.deepEqual(parseListenSpec('fd://3'), { kind: 'fd', fd: 3 });
    for (const [spec, why] of [
      ['80', /expected HOST:PORT, :PORT, \[IPV6\]:PORT, unix:PATH, a path with \/, @NAME or fd:\/\/N/],
      [':65536', /the port must be an integer from 0 to 65535/],
      ['[127.0.0.1]:80', /127\.0\.0\.1 is not an IPv6 address/],
      ['::1:80', /write IPv6 addresses in brackets, \[::1\]:PORT/],
      ['unix:', /unix: needs a path/],
      ['fd://x', /fd:\/\/ needs a descriptor number/],
    ]) {
      assert.throws(() => parseListenSpec(spec), { message: why }, spec);
    }
  });

  test('a form not built yet is a usage error when the options are read (command line, environment)', () => {
    const refused = (argv, env, message) => assert.throws(() => parseCommandLine(argv, env), (error) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.equal(error.exitCode, 2);
      assert.equal(error.message, message);
      return true;
    });
    const notYet = (kind) => `which is not available yet in starlight ${VERSION} (available: HOST:PORT, :PORT or [IPV6]:PORT)`;
    refused(['--listen=unix:/tmp/s'], {}, `--listen: "unix:/tmp/s" is a UNIX socket, ${notYet()}`);
    refused(['-l', '@name'], {}, `-l: "@name" is a UNIX socket, ${notYet()}`);
    refused(['-l/tmp/s'], {}, `-l: "/tmp/s" is a UNIX socket, ${notYet()}`);
    refused(['--listen', 'fd://3'], {}, `--listen: "fd://3" is an inherited descriptor, ${notYet()}`);
    refused([], { STARLIGHT_LISTEN: ':80,fd://3' }, `STARLIGHT_LISTEN: "fd://3" is an inherited descriptor, ${notYet()}`);
    refused(['--listen=nowhere'], {}, '--listen: "nowhere": expected HOST:PORT, :PORT, [IPV6]:PORT, unix:PATH, a path with /, @NAME or fd://N');
    assert.deepEqual(parseCommandLine(['-l', ':81', '--listen=[::1]:0'], {}).options.listen, [':81', '[::1]:0']);
  });

  test('--help says which forms are not available yet', () => {
    const help = helpText().replace(/\n +/g, ' ');
    assert.match(help, /--listen=SPEC +listen on SPEC \(repeatable\): HOST:PORT, :PORT or \[IPV6\]:PORT; not available yet: unix:PATH, a path with \/, @NAME or fd:\/\/N\./);
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
  const refused = (env) => assert.throws(() => refuseInheritedSockets(env, PID), { message: /inherited sockets are not available yet/ });

  test('refused where they are meant for this process (as sd_listen_fds reads LISTEN_PID/LISTEN_FDS)', () => {
    refused({ LISTEN_PID: String(PID), LISTEN_FDS: '1' });
    refused({ LISTEN_PID: String(PID), LISTEN_FDS: '3', LISTEN_FDNAMES: 'http:https:admin' });
    refused({ SERVER_STARTER_PORT: '0.0.0.0:80=3' });
    assert.throws(() => refuseInheritedSockets({ LISTEN_PID: String(PID), LISTEN_FDS: '1' }, PID), { exitCode: 2 });
  });

  test('ignored where they are not: another pid, no LISTEN_PID, no descriptors', () => {
    for (const env of [
      {},
      { LISTEN_PID: '1', LISTEN_FDS: '1' },
      { LISTEN_FDS: '1' },
      { LISTEN_PID: String(PID), LISTEN_FDS: '0' },
      { LISTEN_PID: String(PID), LISTEN_FDS: '' },
      { SERVER_STARTER_PORT: '' },
    ]) {
      assert.doesNotThrow(() => refuseInheritedSockets(env, PID), JSON.stringify(env));
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
