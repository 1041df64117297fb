// The starlight command as a child process: output, messages and exit codes. Nothing here gets
// as far as starting a server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { helpText } from '../../dist/cli/help.js';
import { BIN, cleanEnv } from '../helpers/server.mjs';

const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
const HINT = "Try 'starlight --help'.\n";

/** Runs the command; the environment is ours without STARLIGHT_* and PORT, plus `env`. */
function starlight(args, env = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...cleanEnv(), ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
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

  test('an option not available yet exits 2', async () => {
    const { code, stderr } = await starlight(['--ssl', 'app.js']);
    assert.equal(code, 2);
    assert.equal(stderr, `starlight: --ssl is not available yet in starlight ${VERSION}\n${HINT}`);
  });

  test('a second APP exits 2', async () => {
    const { code, stderr } = await starlight(['a.js', 'b.js']);
    assert.equal(code, 2);
    assert.equal(stderr, `starlight: unexpected argument "b.js": only one APP may be given (already "a.js")\n${HINT}`);
  });
});
