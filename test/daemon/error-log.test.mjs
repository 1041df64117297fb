// SPEC §1.3 --error-log and §2 USR1: the banner, the master's and the workers'
// records and the app's console output go to the file, each line whole; USR1
// after a rename (log rotation) moves every process to a new file, and every
// line written around it is in one of the two files, once.
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { test } from 'node:test';
import { get, sleep, tempDir } from '../helpers/process.mjs';
import { startServer } from '../helpers/server.mjs';
import { freePort, read, waitForLog, writeLoggingApp } from './helpers.mjs';

/** Every line a record of ours, a banner, or a line of the app. */
const WHOLE_LINE = /^(\d{4}-\d\d-\d\dT[\d:.]+Z starlight .+|starlight\/\S+: Accepting connections at \S+ \(.+\)|app-(out|err) \d+)$/;

test('--error-log: banner, records and app output in the file; USR1 after a rename: both files complete, each line once', { timeout: 60000 }, async () => {
  const dir = tempDir();
  const log = dir.file('error.log');
  const app = dir.file('app.mjs');
  writeLoggingApp(app);
  const port = await freePort();
  const server = await startServer(['--workers=2', '--host=127.0.0.1', `--port=${port}`, '--error-log=error.log', app], {
    listen: false,
    wait: 'none',
    cwd: dir.path,
  });
  try {
    await waitForLog(log, /Accepting connections at http:\/\/127\.0\.0\.1:\d+\/ \(2 workers\)/);
    const total = 120;
    const send = (n) => get(port, `/?n=${n}`).then((response) => assert.equal(response.status, 200));
    // Requests before, during and after the rotation, four at a time.
    let next = 0;
    const rotated = (async () => {
      while (next < 40) await sleep(5);
      renameSync(log, `${log}.1`);
      process.kill(server.pid, 'SIGUSR1');
    })();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < total) await send(next++);
      }),
    );
    await rotated;
    await waitForLog(log, /SIGUSR1: log files reopened/);
    // Once every worker has reopened, new lines land in the new file only.
    const after = [];
    for (let n = total; n < total + 10; n++) {
      await send(n);
      after.push(n);
    }
    await waitForLog(log, new RegExp(`app-err ${total + 9}\\n`));
    process.kill(server.pid, 'SIGTERM');
    await server.exited;
    const old = read(`${log}.1`);
    const current = read(log);
    for (const [name, text] of [['old', old], ['new', current]]) {
      for (const line of text.split('\n').slice(0, -1)) assert.match(line, WHOLE_LINE, `a broken line in the ${name} file`);
    }
    const both = `${old}${current}`;
    for (let n = 0; n < total + 10; n++) {
      for (const stream of ['out', 'err']) {
        const count = both.split(`app-${stream} ${n}\n`).length - 1;
        assert.equal(count, 1, `app-${stream} ${n} appears ${count} times`);
      }
    }
    assert.match(old, /app-out 0\n/);
    for (const n of after.slice(-3)) assert.match(current, new RegExp(`app-out ${n}\\n`), 'after the reopen, the app writes to the new file');
    assert.doesNotMatch(old, /SIGUSR1/, 'the master reopened before saying so');
    assert.match(current, /every worker has exited: the master exits/);
    assert.equal(server.stderr, '', 'nothing on stderr');
  } finally {
    await server.stop();
    dir.remove();
  }
});

test('--error-log in a folder that does not exist: the start fails, naming the file', { timeout: 20000 }, async () => {
  const dir = tempDir();
  writeLoggingApp(dir.file('app.mjs'));
  try {
    const server = await startServer(['--workers=1', `--error-log=${dir.file('missing/error.log')}`, dir.file('app.mjs')], { wait: 'none' });
    const exit = await server.exited;
    assert.equal(exit.code, 1);
    assert.match(server.stderr, /--error-log .*missing\/error\.log: ENOENT/);
  } finally {
    dir.remove();
  }
});

test('--error-log with --workers=0: banner and app output in the file, USR1 reopens it', { timeout: 30000 }, async () => {
  const dir = tempDir();
  const log = dir.file('error.log');
  const app = dir.file('app.mjs');
  writeLoggingApp(app);
  const port = await freePort();
  const server = await startServer(['--workers=0', '--host=127.0.0.1', `--port=${port}`, `--error-log=${log}`, app], { listen: false, wait: 'none' });
  try {
    await waitForLog(log, /Accepting connections at .*no workers/);
    await get(port, '/?n=1');
    renameSync(log, `${log}.1`);
    process.kill(server.pid, 'SIGUSR1');
    await waitForLog(log, /SIGUSR1: log files reopened/);
    await get(port, '/?n=2');
    await waitForLog(log, /app-err 2\n/);
    assert.match(read(`${log}.1`), /app-out 1\napp-err 1\n/);
    assert.doesNotMatch(read(`${log}.1`), /app-out 2/);
  } finally {
    await server.stop();
    dir.remove();
  }
});
