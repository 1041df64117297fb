// The starlight command as a child process: output, messages and exit codes. Nothing here gets
// as far as starting a server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { helpText } from '../../dist/cli/help.js';
import { BIN, cleanEnv } from '../helpers/server.mjs';

const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
const HINT = "Try 'starlight --help'.\n";
const APP = fileURLToPath(new URL('../../examples/hello.mjs', import.meta.url));

/**
 * Runs the command; the environment is ours without STARLIGHT_* and PORT, plus `env`. With
 * `shell`, through `sh -c` whose script (`exec "$0" "$@"` at its end) becomes the command.
 */
function starlight(args, env = {}, shell = undefined) {
  const [file, argv] = shell === undefined ? [process.execPath, [BIN, ...args]] : ['sh', ['-c', shell, process.execPath, BIN, ...args]];
  return new Promise((resolve) => {
    execFile(file, argv, { env: { ...cleanEnv(), ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr });
    });
  });
}

describe('starlight command', () => {
  test('--help prints the help on stdout and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const { code, stdout, stderr } = await starlight([flag]);
      assert.equal(code, 0);
      assert.equal(stdout, helpText());
      assert.match(stdout, /^Usage: starlight \[options\] \[APP\]\n/);
      assert.equal(stderr, '');
    }
  });

  test('--help wins over a bad option', async () => {
    const { code, stdout } = await starlight(['--frobnicate', '--help']);
    assert.equal(code, 0);
    assert.equal(stdout, helpText());
  });

  test('--version prints the version and the Node version, exits 0', async () => {
    for (const flag of ['--version', '-v']) {
      const { code, stdout, stderr } = await starlight([flag], { STARLIGHT_PORT: 'not a port' });
      assert.equal(code, 0);
      assert.equal(stdout, `starlight ${VERSION} (node ${process.version})\n`);
      assert.equal(stderr, '');
    }
  });

  test('an unknown option exits 2 with the suggestion and the hint on stderr', async () => {
    const { code, stdout, stderr } = await starlight(['--ssl-cert', 'cert.pem', 'app.js']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(stderr, `starlight: unknown option --ssl-cert (did you mean --ssl-cert-file?)\n${HINT}`);
  });

  test('a bad value exits 2', async () => {
    const { code, stderr } = await starlight(['--port=abc', 'app.js']);
    assert.equal(code, 2);
    assert.equal(stderr, `starlight: --port: expected an integer from 0 to 65535, got "abc"\n${HINT}`);
  });

  test('a bad environment variable exits 2', async () => {
    const { code, stderr } = await starlight(['app.js'], { STARLIGHT_WORKERS: 'many' });
    assert.equal(code, 2);
    assert.equal(stderr, `starlight: STARLIGHT_WORKERS: expected an integer >= 0, got "many"\n${HINT}`);
  });

  test('--reload with --workers=0 exits 2: there are no workers to restart', async () => {
    const { code, stderr } = await starlight(['--workers=0', '--reload', APP]);
    assert.equal(code, 2);
    assert.equal(stderr, `starlight: --reload needs workers (a master restarts them); with --workers=0 there are none\n${HINT}`);
  });

  test('--reuse-port on a Node without SO_REUSEPORT in listen() exits 2, naming the Node it needs', async (t) => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    if (major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)) return t.skip(`Node ${process.version} has reusePort`);
    const { code, stdout, stderr } = await starlight(['--workers=0', '--reuse-port', APP]);
    assert.equal(code, 2, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, new RegExp(`^starlight: --reuse-port needs Node 22\\.12 or later \\(23\\.1 or later on Node 23\\); this is Node ${process.version.replaceAll('.', '\\.')}\n`));
  });

  test('a --listen spec that is not one exits 2, saying why', async () => {
    const { code, stderr } = await starlight(['--listen=::1:80', APP]);
    assert.equal(code, 2);
    assert.equal(stderr, `starlight: --listen: "::1:80": write IPv6 addresses in brackets, [::1]:PORT\n${HINT}`);
  });

  test('a second APP exits 2', async () => {
    const { code, stderr } = await starlight(['a.js', 'b.js']);
    assert.equal(code, 2);
    assert.equal(stderr, `starlight: unexpected argument "b.js": only one APP may be given (already "a.js")\n${HINT}`);
  });
});

describe('inherited sockets are listened on, never ignored', () => {
  const SERVE = ['--workers=0', '--host=127.0.0.1', '--port=0', APP];

  test('systemd socket activation for this process whose descriptors are not sockets: exit 1, naming the descriptor', async () => {
    // sh's $$ is the pid starlight gets: exec keeps it; fd 3 is sh's /dev/null here
    const { code, stderr } = await starlight(SERVE, {}, 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@" 3</dev/null');
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^starlight: cannot listen on fd:\/\/3: it is not an open socket/);
    assert.doesNotMatch(stderr, /Accepting connections/);
  });

  test('Server::Starter naming a descriptor that is not open: exit 1', async () => {
    const { code, stderr } = await starlight(SERVE, { SERVER_STARTER_PORT: '127.0.0.1:5000=200' });
    assert.equal(code, 1, stderr);
    assert.match(stderr, /^starlight: cannot listen on fd:\/\/200: it is not an open socket/);
  });
});
