// SPEC §1.3 --user/--group/--umask: the master binds a privileged port as root,
// the workers run as the named user and group (read in /proc) and load the app
// as them; the master stays root (it removes the pid file). Unknown names and a
// non-root start are clear start errors, before anything is bound.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { get, privilegedPort, tempDir, waitFor, waitForWorkers } from '../helpers/process.mjs';
import { BIN, cleanEnv, startServer } from '../helpers/server.mjs';
import { read, waitForLog, writeLoggingApp } from './helpers.mjs';

const ROOT = process.getuid?.() === 0;
const NOBODY = spawnSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }).stdout.split(':');
const NOGROUP = spawnSync('getent', ['group', 'nogroup'], { encoding: 'utf8' }).stdout.split(':');
const skip = !ROOT ? 'needs root (binding a privileged port, becoming nobody)' : NOBODY.length < 4 || NOGROUP.length < 3 ? 'needs the user nobody and the group nogroup' : false;

/** A temporary folder the user nobody can read (the app is loaded as nobody). */
function sharedDir() {
  const dir = tempDir();
  chmodSync(dir.path, 0o755);
  return dir;
}

/** The Uid: and Gid: lines of /proc/PID/status: [real, effective, saved, fs]. */
function ids(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const line = (name) => status.match(new RegExp(`^${name}:\\s+(.*)$`, 'm'))[1].trim().split(/\s+/).map(Number);
  return { uid: line('Uid'), gid: line('Gid'), groups: line('Groups') };
}

test('--user=nobody --group=nogroup --umask=027 on a privileged port: workers run as nobody:nogroup and serve; the master stays root', { skip, timeout: 40000 }, async () => {
  const dir = sharedDir();
  const app = dir.file('app.mjs');
  writeLoggingApp(app);
  const port = privilegedPort();
  const uid = Number(NOBODY[2]);
  const gid = Number(NOGROUP[2]);
  const server = await startServer(
    ['--workers=2', '--host=127.0.0.1', `--port=${port}`, '--user=nobody', '--group=nogroup', '--umask=027', `--pid=${dir.file('pid')}`, `--error-log=${dir.file('error.log')}`, app],
    { listen: false, wait: 'none' },
  );
  try {
    await waitForLog(dir.file('error.log'), /Accepting connections at http:\/\/127\.0\.0\.1:\d+\//);
    const response = await get(port, '/?n=1');
    assert.equal(response.status, 200);
    assert.equal(response.json.uid, uid, 'the app runs as nobody');
    assert.equal(response.json.gid, gid);
    const workers = await waitForWorkers(server.pid, 2);
    for (const pid of workers) {
      const { uid: uids, gid: gids, groups } = ids(pid);
      assert.deepEqual(uids, [uid, uid, uid, uid], `worker ${pid} Uid`);
      assert.deepEqual(gids, [gid, gid, gid, gid], `worker ${pid} Gid`);
      assert.deepEqual(groups, [gid], `worker ${pid} Groups`);
      assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Umask:\s+0027$/m);
    }
    assert.deepEqual(ids(server.pid).uid, [0, 0, 0, 0], 'the master stays root');
    assert.equal(statSync(dir.file('error.log')).uid, uid, 'the error log is the workers\' to reopen');
    // Rotation: the new file is made by root and given to nobody, and the workers write there.
    renameSync(dir.file('error.log'), dir.file('error.log.1'));
    process.kill(server.pid, 'SIGUSR1');
    await waitForLog(dir.file('error.log'), /SIGUSR1: log files reopened/);
    await waitFor(async () => {
      await get(port, '/?n=2');
      return /app-out 2\n/.test(read(dir.file('error.log')));
    });
    assert.doesNotMatch(read(dir.file('error.log')), /stays where it was/);
    process.kill(server.pid, 'SIGTERM');
    assert.equal((await server.exited).code, 0);
    assert.equal(existsSync(dir.file('pid')), false, 'the master (root) removed its pid file');
  } finally {
    await server.stop();
    dir.remove();
  }
});

test('--user with an unknown name, --group with an unknown group: a start error naming it, nothing bound', { skip: ROOT ? false : 'needs root', timeout: 20000 }, async () => {
  const dir = tempDir();
  writeLoggingApp(dir.file('app.mjs'));
  try {
    for (const [args, message] of [
      [['--user=no-such-user-here'], /--user: no such user: no-such-user-here/],
      [['--user=nobody', '--group=nogroup,no-such-group-here'], /--group: no such group: no-such-group-here/],
    ]) {
      for (const workers of ['--workers=1', '--workers=0']) {
        const server = await startServer([workers, ...args, dir.file('app.mjs')], { wait: 'none' });
        const exit = await server.exited;
        assert.equal(exit.code, 1, server.stderr);
        assert.match(server.stderr, message);
        assert.doesNotMatch(server.stderr, /Accepting connections/);
      }
    }
  } finally {
    dir.remove();
  }
});

test('not root, --user=root: a clear start error', { skip, timeout: 20000 }, async () => {
  const dir = sharedDir();
  writeLoggingApp(dir.file('app.mjs'));
  try {
    // Run starlight itself as nobody (it must be able to read our tree).
    const probe = spawnSync(process.execPath, [BIN, '--version'], { uid: Number(NOBODY[2]), gid: Number(NOGROUP[2]), encoding: 'utf8' });
    if (probe.status !== 0) return;
    const run = spawnSync(process.execPath, [BIN, '--workers=1', '--port=0', '--user=root', dir.file('app.mjs')], {
      uid: Number(NOBODY[2]),
      gid: Number(NOGROUP[2]),
      env: cleanEnv(),
      encoding: 'utf8',
      timeout: 15000,
    });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /--user and --group need starlight started as root \(it runs as uid \d+\)/);
  } finally {
    dir.remove();
  }
});
