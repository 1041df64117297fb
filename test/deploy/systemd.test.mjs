// systemd in front of starlight, with the units docs/deploy.md shows: systemd's own
// `systemd-analyze verify` reads them (an unknown key or a command that is not there fails it),
// and systemd's `systemd-socket-activate` runs the service's ExecStart on the socket unit's
// socket as systemd does: it binds, waits for the first connection, then execs starlight with the
// socket at descriptor 3 and LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES set. The service's reload
// and stop are then what its ExecReload and KillMode say: HUP under a bounded load loses no
// request, TERM to the master alone stops everything with status 0, and the socket file, which
// is systemd's, stays. Only paths are changed from the doc (the socket's, the app's, the command's).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { APP, get, livePids, sleep, startLoad, tempDir, waitFor, waitForWorkers } from '../helpers/process.mjs';
import { BIN, startServer } from '../helpers/server.mjs';

const DOC = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
const ACTIVATE = '/usr/bin/systemd-socket-activate';
const ANALYZE = '/usr/bin/systemd-analyze';
const systemdSkip = existsSync(ACTIVATE) && existsSync(ANALYZE) ? false : 'systemd-socket-activate and systemd-analyze are not installed (Debian package systemd; .ci/run installs it as root)';

/** The ini block docs/deploy.md shows after `<!-- systemd:NAME -->`. */
function unitText(name) {
  const block = new RegExp(`<!-- systemd:${name} -->\\n\`\`\`ini\\n([^]*?)\`\`\`\\n`).exec(DOC);
  assert.ok(block, `docs/deploy.md has an ini block after <!-- systemd:${name} -->`);
  return block[1];
}

/** A unit's `Key=value` lines as [key, value] pairs, in order. */
const settings = (text) => text.split('\n').filter((line) => /^[A-Za-z]+=/.test(line)).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
const setting = (text, key) => settings(text).find(([name]) => name === key)?.[1];

const SOCKET_UNIT = unitText('socket');
const SERVICE_UNIT = unitText('service');
/** The doc's command, `/srv/app/node_modules/.bin/starlight ARGS... app.mjs`, split. */
const [DOC_COMMAND, ...DOC_ARGS] = setting(SERVICE_UNIT, 'ExecStart').split(' ');

/** The doc's units with this test's paths: the socket in `dir`, the command this checkout's. */
function localUnits(dir) {
  const socket = dir.file('starlight.sock');
  return {
    socket,
    socketUnit: SOCKET_UNIT.replace(setting(SOCKET_UNIT, 'ListenStream'), socket),
    serviceUnit: SERVICE_UNIT.replace(DOC_COMMAND, BIN).replace(setting(SERVICE_UNIT, 'WorkingDirectory'), dir.path),
  };
}

/**
 * Runs the service's command under systemd-socket-activate on `socket`, named as systemd names a
 * socket unit's descriptor, and makes the first connection, which starts it; resolves the server
 * (startServer's handle: its pid is starlight's master, which the launcher became).
 */
async function activate(socket) {
  const args = DOC_ARGS.map((arg) => (arg === 'app.mjs' ? APP : arg));
  const server = await startServer(args, { launcher: [ACTIVATE, '--listen', socket, '--fdname=starlight.socket'], listen: false, wait: 'none' });
  try {
    await waitFor(() => existsSync(socket), { message: () => `the socket bound; output:\n${server.stderr}` });
    const first = await get(socket, '/first');
    assert.equal(first.status, 200, first.body);
    await waitFor(() => server.stderr.includes('Accepting connections at fd://3'), { timeoutMs: 15000, message: () => `the banner; output:\n${server.stderr}` });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

describe('systemd socket activation with the units of docs/deploy.md', { skip: systemdSkip }, () => {
  test('systemd-analyze verify finds nothing to say of the units', () => {
    const dir = tempDir();
    try {
      const { socketUnit, serviceUnit } = localUnits(dir);
      writeFileSync(dir.file('starlight.socket'), socketUnit);
      writeFileSync(dir.file('starlight.service'), serviceUnit);
      const verify = spawnSync(ANALYZE, ['verify', '--man=no', dir.file('starlight.socket'), dir.file('starlight.service')], { encoding: 'utf8' });
      assert.equal(verify.status, 0, verify.stderr);
      assert.equal(verify.stderr.trim(), '', 'no warning');
      // The check is real: a key systemd does not know is reported.
      writeFileSync(dir.file('starlight.service'), serviceUnit.replace('KillMode=', 'KillModus='));
      const bad = spawnSync(ANALYZE, ['verify', '--man=no', dir.file('starlight.service')], { encoding: 'utf8' });
      assert.match(bad.stderr, /Unknown key 'KillModus'/);
    } finally {
      dir.remove();
    }
  });

  test('the first connection starts starlight on the handed-down socket; ExecReload (HUP) under load loses nothing; TERM stops it with status 0 and leaves the socket', { timeout: 60000 }, async () => {
    const dir = tempDir();
    const { socket } = localUnits(dir);
    const server = await activate(socket);
    try {
      assert.match(server.stderr, /Accepting connections at fd:\/\/3 named starlight\.socket \(a UNIX socket\)/, 'the banner names the socket as LISTEN_FDNAMES does');
      const workers = Number(/--workers=(\d+)/.exec(DOC_ARGS.join(' '))[1]);
      const old = await waitForWorkers(server.pid, workers, 15000);

      const load = startLoad(socket, { keepAlive: 2, oneShot: 2, path: '/slow?ms=20' });
      await sleep(500);
      // ExecReload, as systemd runs it: MAINPID is the service's main process.
      execFileSync('/bin/sh', ['-c', setting(SERVICE_UNIT, 'ExecReload')], { env: { ...process.env, MAINPID: String(server.pid) } });
      await waitFor(() => livePids(server.pid).filter((pid) => !old.includes(pid)).length === workers && livePids(server.pid).length === workers, {
        timeoutMs: 30000,
        message: () => `${workers} new workers (live: ${livePids(server.pid)}, old: ${old})`,
      });
      await sleep(300);
      const stats = await load.stop();
      assert.deepEqual(stats.failures, [], `failed requests across the reload (ok: ${stats.ok})`);
      assert.ok([...stats.pids.keys()].some((pid) => !old.includes(pid)), 'new workers answered');

      // KillMode=mixed: TERM to the main process only, which stops its workers itself.
      assert.equal(setting(SERVICE_UNIT, 'KillMode'), 'mixed');
      const all = livePids(server.pid);
      server.kill('SIGTERM');
      const exit = await server.exited;
      assert.equal(exit.code, 0, server.stderr);
      await waitFor(() => all.every((pid) => !livePids(server.pid).includes(pid)), { message: 'the workers gone' });
      assert.ok(existsSync(socket), "the socket file is systemd's: starlight leaves it");
    } finally {
      await server.stop();
      dir.remove();
    }
  });
});
