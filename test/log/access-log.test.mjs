// --access-log and --access-log-format (SPEC §4): each format's exact line for
// known requests of a Fetch app and of a Node app, hostile request targets,
// request fields and app header values escaped so that no line can be forged,
// requests the server refused itself, `-` to stderr, a bad template refused at
// start, thousands of requests from 4 workers each logged as one whole line,
// and rotation by rename + USR1 with nothing lost.
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { exchange, httpRequest, RawConnection } from '../helpers/raw.mjs';
import { startLoad, tempDir, writeApp } from '../helpers/process.mjs';
import { startServer } from '../helpers/server.mjs';
import { sleep, waitFor } from '../helpers/wait.mjs';
import { AccessLog } from '../../dist/log/access-log.js';
import { compileAccessFormat } from '../../dist/log/access-format.js';

const FETCH_APP = `
export default {
  async fetch(request, context) {
    const url = new URL(request.url);
    if (url.pathname === '/stream') {
      const parts = ['ab', 'cde', 'f'];
      const body = new ReadableStream({ pull(c) { const p = parts.shift(); if (p === undefined) c.close(); else c.enqueue(new TextEncoder().encode(p)); } });
      return new Response(body);
    }
    const headers = { 'x-pid': String(process.pid), 'x-worker': String(context.worker.id) };
    if (url.pathname === '/hostile') headers['x-app'] = 'a" 200 1 "\\\\ \\u00e9\\tz';
    return new Response('hello\\n', { headers });
  },
};
`;

const NODE_APP = `
module.exports = (req, res) => {
  const headers = { 'X-Pid': String(process.pid) };
  if (req.url.startsWith('/hostile')) headers['X-App'] = 'a" 200 1 "\\\\ \\u00e9\\tz';
  if (req.url === '/stream') {
    res.writeHead(200, headers);
    res.write('ab');
    res.write(Buffer.from('cde'));
    return res.end('f');
  }
  res.writeHead(200, headers);
  res.end('hello\\n');
};
`;

const KINDS = [
  { kind: 'Fetch', file: 'app.mjs', source: FETCH_APP },
  { kind: 'Node', file: 'app.cjs', source: NODE_APP },
];

/** An Apache-escaped item: `\"`, `\\`, `\xHH`, printable ASCII, nothing else. */
const ITEM = String.raw`(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\"|\\\\|\\x[0-9a-f]{2})*`;
const TIME = String.raw`\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]`;
const COMBINED = new RegExp(String.raw`^(\S+) - - (${TIME}) "(${ITEM})" (\d{3}) (\d+|-) "(${ITEM})" "(${ITEM})"$`);

/** An escaped item back as the latin1 text it was (what the client sent). */
const unescape = (item) => item.replace(/\\(x[0-9a-f]{2}|.)/g, (_, what) => (what.length === 3 ? String.fromCharCode(parseInt(what.slice(1), 16)) : what));

/** The log's lines once it has at least `n`. */
async function linesOf(file, n, timeoutMs = 5000) {
  let lines = [];
  await waitFor(
    () => {
      try {
        lines = readFileSync(file, 'latin1').split('\n').slice(0, -1);
      } catch {
        lines = [];
      }
      return lines.length >= n;
    },
    { timeoutMs, message: () => `${n} lines in ${file} (has ${lines.length}: ${lines.join(' | ')})` },
  );
  return lines;
}

/** One request on its own connection; resolves with the response. */
async function send(port, method, target, headers = {}) {
  const { responses, error } = await exchange(port, httpRequest(method, target, { headers: { Host: 'test', Connection: 'close', ...headers } }), { methods: [method] });
  assert.equal(error, null);
  return responses[0];
}

let dir;
before(() => {
  dir = tempDir();
  for (const { file, source } of KINDS) writeFileSync(dir.file(file), source);
});
after(() => dir.remove());

/** Runs `fn(server, logFile)` with `kind`'s app under `args`, stopping it after. */
async function withLog(kind, args, fn, opts = {}) {
  const log = dir.file(`${kind.kind}-${Math.random().toString(36).slice(2)}.log`);
  const server = await startServer([`--access-log=${log}`, '--workers=1', ...args, dir.file(kind.file)], { env: { TZ: 'UTC', ...opts.env } });
  try {
    return await fn(server, log);
  } finally {
    await server.stop();
  }
}

for (const kind of KINDS) {
  describe(`the access log of a ${kind.kind} app`, () => {
    test('combined (the default): the exact line of each request', async () => {
      await withLog(kind, [], async (server, log) => {
        await send(server.port, 'GET', '/p?q=1', { Referer: 'http://r.example/', 'User-Agent': 'ua/1' });
        await send(server.port, 'HEAD', '/h');
        await send(server.port, 'GET', '/stream');
        const lines = await linesOf(log, 3);
        const time = String.raw`\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\]`;
        assert.match(lines[0], new RegExp(String.raw`^127\.0\.0\.1 - - ${time} "GET /p\?q=1 HTTP/1\.1" 200 6 "http://r\.example/" "ua/1"$`));
        assert.match(lines[1], new RegExp(String.raw`^127\.0\.0\.1 - - ${time} "HEAD /h HTTP/1\.1" 200 - "-" "-"$`));
        assert.match(lines[2], new RegExp(String.raw`^127\.0\.0\.1 - - ${time} "GET /stream HTTP/1\.1" 200 6 "-" "-"$`));
        // The time is now's, as Apache writes it.
        const [, day, month, year, hh, mm, ss] = /\[(\d\d)\/(\w+)\/(\d+):(\d\d):(\d\d):(\d\d)/.exec(lines[0]);
        const logged = Date.parse(`${day} ${month} ${year} ${hh}:${mm}:${ss} GMT`);
        assert.ok(Math.abs(Date.now() - logged) < 60_000, lines[0]);
      });
    });

    test('common, and %t in the local time zone', async () => {
      await withLog(kind, ['--access-log-format=common'], async (server, log) => {
        await send(server.port, 'GET', '/c', { 'User-Agent': 'ua/1' });
        const [line] = await linesOf(log, 1);
        assert.match(line, /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0530\] "GET \/c HTTP\/1\.1" 200 6$/);
      }, { env: { TZ: 'Asia/Kolkata' } });
    });

    test('json: one object per line with the fields SPEC §4 names', async () => {
      await withLog(kind, ['--access-log-format=json'], async (server, log) => {
        const response = await send(server.port, 'GET', '/j?x="y"', { Referer: 'r"\\', 'User-Agent': 'ua\t2' });
        const [line] = await linesOf(log, 1);
        const entry = JSON.parse(line);
        assert.deepEqual(Object.keys(entry), ['time', 'remote_addr', 'method', 'url', 'protocol', 'status', 'bytes', 'duration_ms', 'referer', 'user_agent', 'worker', 'pid']);
        assert.ok(Math.abs(Date.parse(entry.time) - Date.now()) < 60_000 && entry.time.endsWith('Z'), entry.time);
        const { time, duration_ms, worker, ...rest } = entry;
        assert.deepEqual(rest, {
          remote_addr: '127.0.0.1', method: 'GET', url: '/j?x="y"', protocol: 'HTTP/1.1', status: 200, bytes: 6,
          referer: 'r"\\', user_agent: 'ua\t2', pid: Number(response.header('x-pid')),
        });
        assert.ok(duration_ms >= 0 && duration_ms < 10_000, String(duration_ms));
        assert.ok(Number.isInteger(worker) && worker >= 1, String(worker));
        if (kind.kind === 'Fetch') assert.equal(worker, Number(response.header('x-worker')));
      });
    });

    test('a template: its directives, response fields and durations', async () => {
      const format = '%a %A:%p %m %U%q %H %s %>s %B %b %{x-pid}o %{Host}i %D %T %{ms}T %P 100%%';
      await withLog(kind, [`--access-log-format=${format}`], async (server, log) => {
        const response = await send(server.port, 'GET', '/t?a=1');
        await send(server.port, 'HEAD', '/h');
        const [line, head] = await linesOf(log, 2);
        const pid = response.header('x-pid');
        const match = /^127\.0\.0\.1 127\.0\.0\.1:(\d+) GET \/t\?a=1 HTTP\/1\.1 200 200 6 6 (\d+) test (\d+) (\d+) (\d+) (\d+) 100%$/.exec(line);
        assert.ok(match, line);
        assert.equal(Number(match[1]), server.port);
        assert.equal(match[2], pid);
        assert.equal(match[6], pid);
        assert.match(head, /^127\.0\.0\.1 127\.0\.0\.1:\d+ HEAD \/h HTTP\/1\.1 200 200 0 - \d+ test /);
      });
    });

    test('hostile targets, request fields and app header values are escaped: no line can be forged', async () => {
      const format = '%h "%r" %>s %b "%{User-Agent}i" "%{X-App}o"';
      await withLog(kind, [`--access-log-format=${format}`], async (server, log) => {
        const target = '/hostile?"\\"-"-\\x41';
        const agent = 'x" 200 5 "y\t\\\xff\x80';
        await send(server.port, 'GET', target, { 'User-Agent': agent });
        const [line] = await linesOf(log, 1);
        const forged = new RegExp(String.raw`^127\.0\.0\.1 "(${ITEM})" 200 6 "(${ITEM})" "(${ITEM})"$`).exec(line);
        assert.ok(forged, `a line that parses: ${line}`);
        assert.equal(unescape(forged[1]), `GET ${target} HTTP/1.1`);
        assert.equal(unescape(forged[2]), agent);
        // The app's value, as written on the wire (latin1; é is \xe9).
        assert.equal(unescape(forged[3]), 'a" 200 1 "\\ \xe9\tz');
        assert.ok(line.includes(String.raw`\x09\\\xff\x80`), line);
      });
    });

    test('requests the server refuses itself are logged, with what was read of the request line', async () => {
      await withLog(kind, ['--max-headers=3'], async (server, log) => {
        await exchange(server.port, Buffer.from('GET /a\x0bb"c HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'));
        await exchange(server.port, Buffer.from('GET /many HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n', 'latin1'));
        const lines = await linesOf(log, 2);
        for (const line of lines) assert.match(line, COMBINED);
        const bad = COMBINED.exec(lines.find((line) => line.includes('/a')));
        assert.equal(bad[4], '400');
        assert.equal(unescape(bad[3]).startsWith('GET /a'), true, bad[3]);
        assert.ok(!bad[3].includes('\x0b'), bad[3]);
        const many = COMBINED.exec(lines.find((line) => line.includes('/many')));
        assert.equal(many[3], 'GET /many HTTP/1.1');
        assert.equal(many[4], '431');
      });
    });
  });
}

test('a head that does not arrive within --header-timeout is logged 408 (Fetch app)', async () => {
  await withLog(KINDS[0], ['--header-timeout=0.3'], async (server, log) => {
    const connection = await RawConnection.connect(server.port);
    try {
      connection.write('GET /slow-head HTTP/1.1\r\nHost: x\r\n');
      await connection.waitClosed(5000);
    } finally {
      connection.destroy();
    }
    const [line] = await linesOf(log, 1);
    assert.match(line, /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/slow-head HTTP\/1\.1" 408 \d+ "-" "-"$/);
  });
});

test('a line repeated is written again whole (UTF-8 and all): in one batch, after a flush, after a line too long for a batch, and after a reopen', () => {
  const dir = tempDir();
  const path = dir.file('access.log');
  const log = new AccessLog(path, compileAccessFormat('%{X-Line}i \u20ac', { worker: 0, pid: 0 }));
  const line = (text) => log.log({ requestField: () => text }, 0);
  const long = 'L'.repeat(30000);
  const expected = [];
  const put = (text) => {
    line(text);
    expected.push(text);
  };
  put('a'), put('a'), put('b\u00e9'), put('b\u00e9'), put('a');
  log.flush();
  put('a'), put('a'), put(long), put(long), put('c'), put('c');
  log.reopen();
  put('c'), put('c');
  log.flush();
  try {
    assert.deepEqual(readFileSync(path, 'utf8').split('\n'), [...expected.map((text) => `${text.replace('\u00e9', '\\xe9')} \u20ac`), '']);
  } finally {
    dir.remove();
  }
});

test('--access-log=- writes the lines on stderr', async () => {
  const server = await startServer(['--access-log=-', '--workers=1', dir.file('app.mjs')]);
  try {
    await send(server.port, 'GET', '/to-stderr');
    await waitFor(() => /"GET \/to-stderr HTTP\/1\.1" 200 6 "-" "-"\n/.test(server.stderr), { message: () => `the line on stderr: ${server.stderr}` });
  } finally {
    await server.stop();
  }
});

test('--workers=0 logs too, and flushes its lines as it stops', async () => {
  await withLog(KINDS[0], ['--workers=0', '--access-log-format=%>s %U'], async (server, log) => {
    for (let i = 0; i < 20; i++) await send(server.port, 'GET', `/solo${i}`);
    await server.stop();
    const lines = readFileSync(log, 'latin1').split('\n').slice(0, -1);
    assert.deepEqual(lines, Array.from({ length: 20 }, (_, i) => `200 /solo${i}`));
  });
});

describe('a bad --access-log-format stops the start with a usage error', () => {
  for (const [format, named] of [
    ['%h %Z', '%Z'],
    ['%{Referer}x', '%{Referer}x'],
    ['%{a b}i', '%{a b}i'],
    ['100%', 'a lone %'],
    ['%h\n%r', 'control character'],
  ]) {
    for (const workers of ['1', '0']) {
      test(`${JSON.stringify(format)} (--workers=${workers})`, async () => {
        const server = await startServer([`--access-log=${dir.file('never.log')}`, `--access-log-format=${format}`, `--workers=${workers}`, dir.file('app.mjs')], { wait: 'banner-or-exit' });
        try {
          assert.equal(server.serving, false, server.stderr);
          assert.equal(server.exit.code, 2, server.stderr);
          assert.match(server.stderr, /--access-log-format: /);
          assert.ok(server.stderr.includes(named), server.stderr);
        } finally {
          await server.stop();
        }
      });
    }
  }
});

test('4 workers, thousands of requests: one whole line each, none interleaved', async () => {
  const log = dir.file('many.log');
  const server = await startServer([`--access-log=${log}`, '--access-log-format=json', '--workers=4', dir.file('app.mjs')], { timeoutMs: 15000 });
  const total = 4000;
  const pids = new Set();
  try {
    // 32 connections at a time, on new connections, so that every worker gets its share.
    let next = 0;
    const loop = async () => {
      while (next < total) {
        const i = next++;
        const response = await send(server.port, 'GET', `/many/${i}?${'x'.repeat(i % 300)}`, { 'User-Agent': `agent ${i} "${'y'.repeat(i % 200)}"` });
        assert.equal(response.status, 200);
        pids.add(response.header('x-pid'));
      }
    };
    await Promise.all(Array.from({ length: 32 }, loop));
    const lines = await linesOf(log, total, 15000);
    assert.equal(lines.length, total);
    const seen = new Set();
    for (const line of lines) {
      const entry = JSON.parse(line);
      const i = Number(/^\/many\/(\d+)\?/.exec(entry.url)[1]);
      assert.equal(entry.url, `/many/${i}?${'x'.repeat(i % 300)}`);
      assert.equal(entry.user_agent, `agent ${i} "${'y'.repeat(i % 200)}"`);
      seen.add(i);
    }
    assert.equal(seen.size, total);
    assert.ok(new Set(lines.map((line) => JSON.parse(line).pid)).size >= 2, 'several workers wrote');
  } finally {
    await server.stop();
  }
});

test('USR1 after a rename: the old file and the new one are both complete, nothing is lost', async () => {
  const rotate = tempDir();
  const log = rotate.file('access.log');
  const app = rotate.file('app.mjs');
  writeApp(app, 'v1');
  const server = await startServer([`--access-log=${log}`, '--access-log-format=%>s %U', '--workers=2', app], { timeoutMs: 15000 });
  let stats;
  try {
    const load = startLoad(server.port, { keepAlive: 3, oneShot: 3 });
    await linesOf(log, 200, 15000);
    renameSync(log, rotate.file('access.log.1'));
    server.kill('SIGUSR1');
    await linesOf(log, 200, 15000);
    await sleep(100);
    stats = await load.stop();
  } finally {
    await server.stop();
  }
  try {
    assert.deepEqual(stats.failures, []);
    const old = readFileSync(rotate.file('access.log.1'), 'latin1').split('\n');
    const now = readFileSync(log, 'latin1').split('\n');
    assert.equal(old.pop(), '');
    assert.equal(now.pop(), '');
    for (const line of [...old, ...now]) assert.equal(line, '200 /');
    assert.ok(old.length >= 200 && now.length >= 200, `${old.length} + ${now.length}`);
    assert.equal(old.length + now.length, stats.ok);
    assert.match(server.stderr, /SIGUSR1: log files reopened/);
  } finally {
    rotate.remove();
  }
});

test('-E development without --access-log: METHOD url status duration on stderr', async () => {
  const server = await startServer(['-E', 'development', '--workers=1', dir.file('app.mjs')]);
  try {
    await send(server.port, 'GET', '/dev?x=1');
    await waitFor(() => /^GET \/dev\?x=1 200 \d+ ms$/m.test(server.stderr), { message: () => `the short line on stderr: ${server.stderr}` });
  } finally {
    await server.stop();
  }
});

test('a bad --access-log-format is refused even without --access-log', async () => {
  const server = await startServer(['--access-log-format=%Z', '--workers=1', dir.file('app.mjs')], { wait: 'banner-or-exit' });
  try {
    assert.equal(server.serving, false, server.stderr);
    assert.equal(server.exit.code, 2, server.stderr);
    assert.match(server.stderr, /--access-log-format: %Z is not a supported directive/);
  } finally {
    await server.stop();
  }
});

test('--workers=0: USR1 after a rename reopens the access log too', async () => {
  await withLog(KINDS[1], ['--workers=0', '--access-log-format=%>s %U'], async (server, log) => {
    for (let i = 0; i < 5; i++) await send(server.port, 'GET', `/before${i}`);
    await linesOf(log, 5);
    renameSync(log, `${log}.1`);
    server.kill('SIGUSR1');
    await waitFor(() => /SIGUSR1: log files reopened/.test(server.stderr), { message: () => `the reopen said on stderr: ${server.stderr}` });
    for (let i = 0; i < 5; i++) await send(server.port, 'GET', `/after${i}`);
    await server.stop();
    assert.equal(readFileSync(`${log}.1`, 'latin1'), Array.from({ length: 5 }, (_, i) => `200 /before${i}\n`).join(''));
    assert.equal(readFileSync(log, 'latin1'), Array.from({ length: 5 }, (_, i) => `200 /after${i}\n`).join(''));
  });
});
