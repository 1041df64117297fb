// SPEC §2 under load and faults (issue 11 B): --max-reqs-per-child and
// harakiri are hard limits (the retiring worker takes nothing new, its
// replacement serves the next request); a worker killed after it served is
// replaced at once, not backed off as a crash loop; connections arriving
// while a worker's event loop is blocked are answered by another worker (the
// blocked one accepts none) and the master keeps no descriptor of them; the
// banner waits for every initial worker, for a bounded time; a graceful stop
// answers the connections queued in the listen backlog; the stop, the
// recycling and the requests cut by --graceful-timeout are logged.
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { httpRequest, parseResponses, rawRequest } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';
import {
  APP,
  APP_LIB,
  Client,
  clientOnEachWorker,
  get,
  isAlive,
  livePids,
  seenWorkers,
  settle,
  sleep,
  tempDir,
  waitFor,
  waitForWorkers,
  withServer,
} from '../helpers/process.mjs';

function countBy(values) {
  const counts = new Map();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** The number of descriptors `pid` has open. */
const fdCount = (pid) => readdirSync(`/proc/${pid}/fd`).length;

for (const workers of [1, 2]) {
  for (const keepAlive of [true, false]) {
    test(`--workers=${workers} --max-reqs-per-child=5, ${keepAlive ? 'keep-alive' : 'a connection per request'}: every worker serves exactly five, the fifth says close`, { timeout: 30000 }, async () => {
      await withServer([`--workers=${workers}`, '--max-reqs-per-child=5', APP], {}, async (server) => {
        await waitForWorkers(server.pid, workers);
        const answers = [];
        let client = null;
        try {
          for (let i = 0; i < 20; i++) {
            if (keepAlive) {
              client ??= await Client.open(server.port);
              const response = await client.request('/');
              answers.push(response);
              if (response.close) {
                client.destroy();
                client = null;
              }
            } else {
              answers.push(await get(server.port));
            }
          }
        } finally {
          client?.destroy();
        }
        assert.ok(answers.every((answer) => answer.status === 200));
        const counts = countBy(answers.map((answer) => answer.json.pid));
        assert.deepEqual([...counts.values()], [5, 5, 5, 5], `requests per worker: ${[...counts.values()]}`);
        // Each worker's fifth request (by its own count) is its last, and says close.
        for (const answer of answers) assert.equal(answer.close, keepAlive ? answer.json.requests === 5 : true, JSON.stringify(answer.json));
        assert.ok(answers.every((answer) => answer.json.requests <= 5));
        await waitFor(() => /is recycled: it received its 5 requests/.test(server.stderr), { message: 'the recycling logged' });
      });
    });
  }
}

test('requests pipelined behind a worker\'s last one are not served by it: the client sends them again elsewhere', { timeout: 30000 }, async () => {
  await withServer(['--workers=1', '--max-reqs-per-child=2', APP], {}, async (server) => {
    const [first] = await waitForWorkers(server.pid, 1);
    assert.equal((await get(server.port)).json.pid, first);
    // Its second request is its last: the two pipelined behind it are left unanswered.
    const request = httpRequest('GET', '/');
    const { data, closed } = await rawRequest(server.port, [Buffer.concat([request, request, request])]);
    const { responses, error } = parseResponses(data, { closed: closed === 'fin' });
    assert.equal(error, null);
    assert.equal(responses.length, 1, `${responses.length} responses`);
    assert.equal(responses[0].close, true);
    assert.equal(JSON.parse(responses[0].text).pid, first);
    assert.equal(closed, 'fin');
    const again = await get(server.port);
    assert.notEqual(again.json.pid, first);
  });
});

test('after harakiri() the next request is served by another worker, even with --workers=1', { timeout: 30000 }, async () => {
  await withServer(['--workers=1', APP], {}, async (server) => {
    for (let round = 0; round < 3; round++) {
      const killer = await get(server.port, '/harakiri');
      const next = await get(server.port);
      assert.notEqual(next.json.pid, killer.json.pid, `round ${round}: harakiri worker ${killer.json.pid} served again`);
    }
    assert.match(server.stderr, /is recycled: the app asked for harakiri/);
  });
});

test('a worker SIGKILLed every second under load: replaced at once (no crash-loop backoff), only its own connections fail', { timeout: 60000 }, async () => {
  await withServer(['--workers=2', APP], {}, async (server) => {
    await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    const killed = new Set();
    /** The workers that answered a request: those killed are not a crash loop. */
    const served = new Set();
    let running = true;
    const stats = { ok: 0, failures: [], unexplained: [] };
    // Keep-alive loops note the worker of their connection: a failure there must be on a killed worker.
    const keepAliveLoop = async () => {
      let client = null;
      let pid = null;
      while (running) {
        try {
          client ??= await Client.open(server.port);
          const response = await client.request('/', { timeoutMs: 5000 });
          pid = response.json.pid;
          served.add(pid);
          stats.ok++;
          if (response.close) client = (client.destroy(), null);
        } catch (error) {
          stats.failures.push(error.message);
          if (pid !== null && !killed.has(pid)) stats.unexplained.push(`keep-alive on live worker ${pid}: ${error.message}`);
          client?.destroy();
          client = null;
          pid = null;
        }
      }
      client?.destroy();
    };
    const oneShotLoop = async () => {
      while (running) {
        const { response, error } = await settle(get(server.port, '/', 5000));
        if (response?.status === 200) {
          stats.ok++;
          served.add(response.json.pid);
        } else stats.failures.push(error?.message ?? `status ${response.status}`);
      }
    };
    // The longest time with no live worker.
    let emptySince = null;
    let longestEmpty = 0;
    const watch = setInterval(() => {
      if (livePids(server.pid).length > 0) emptySince = null;
      else {
        emptySince ??= Date.now();
        longestEmpty = Math.max(longestEmpty, Date.now() - emptySince);
      }
    }, 10);
    const loops = [keepAliveLoop(), keepAliveLoop(), oneShotLoop(), oneShotLoop()];
    try {
      for (let second = 0; second < 12; second++) {
        await sleep(1000);
        // The oldest that served (the kernel deals connections in no set order: a worker only just
        // ready may have had none yet, and a death before its first request is a crash loop's).
        const victim = livePids(server.pid)
          .filter((pid) => served.has(pid))
          .sort((a, b) => a - b)[0];
        if (victim === undefined) continue;
        killed.add(victim);
        process.kill(victim, 'SIGKILL');
      }
      await sleep(500);
    } finally {
      running = false;
      clearInterval(watch);
      await Promise.all(loops);
    }
    assert.ok(killed.size >= 10, `${killed.size} workers killed; no worker for ${longestEmpty} ms; ${stats.failures.length} failures; ${server.stderr}`);
    assert.doesNotMatch(server.stderr, /keep dying young/);
    assert.ok(longestEmpty < 2000, `no worker for ${longestEmpty} ms`);
    assert.deepEqual(stats.unexplained, []);
    // At most the requests in flight on the victim when it died: one per client loop.
    assert.ok(stats.failures.length <= killed.size * 4, `${stats.failures.length} failures for ${killed.size} kills: ${stats.failures.slice(0, 5)}`);
    assert.ok(stats.ok > 100, `${stats.ok} requests answered`);
    await waitForWorkers(server.pid, 2);
  });
});

test('--worker-timeout=1: connections arriving while a worker is blocked are all answered by the other; the master keeps no descriptor of them', { timeout: 40000 }, async () => {
  await withServer(['--workers=2', '--worker-timeout=1', APP], {}, async (server) => {
    await waitForWorkers(server.pid, 2);
    await seenWorkers(server.port, 2);
    await sleep(300);
    const baseline = fdCount(server.pid);
    // Block the worker that takes this connection.
    const blocker = await Client.open(server.port);
    const blockedPid = (await blocker.request('/')).json.pid;
    const blocked = settle(blocker.request('/block?ms=8000', { timeoutMs: 15000 }));
    // (Long enough for it to be blocked on a busy machine: a connection it took before is its own.)
    await sleep(200);
    // New connections from the moment it blocks, before the master can know (its heartbeat is not late yet).
    const answers = [];
    const started = Date.now();
    while (isAlive(blockedPid) && Date.now() - started < 6000) {
      answers.push(settle(get(server.port, '/', 8000)));
      await sleep(40);
    }
    const settled = await Promise.all(answers);
    const failed = settled.filter((result) => result.error !== undefined).map((result) => result.error.message);
    assert.deepEqual(failed, [], `${failed.length} of ${settled.length} new connections failed: ${server.stderr}`);
    assert.ok(settled.length >= 10, `${settled.length} connections tried`);
    assert.ok(settled.every(({ response }) => response.status === 200 && response.json.pid !== blockedPid));
    assert.ok(!isAlive(blockedPid), 'the blocked worker was killed');
    assert.ok((await blocked).error !== undefined);
    blocker.destroy();
    await waitForWorkers(server.pid, 2);
    await waitFor(() => fdCount(server.pid) <= baseline, { timeoutMs: 5000, message: () => `the master's descriptors back to ${baseline} (has ${fdCount(server.pid)})` });
  });
});

/**
 * An app in a new temporary folder whose first worker to load is ready at once, while the
 * second runs `statement` (JavaScript, awaited at the module's top level) before it loads.
 */
function appWhoseSecondWorker(statement) {
  const dir = tempDir();
  const app = dir.file('app.mjs');
  const mark = JSON.stringify(dir.file('first'));
  writeFileSync(
    app,
    `import { writeFileSync } from 'node:fs';\nimport { makeApp } from ${JSON.stringify(APP_LIB)};\n` +
      // Created exclusively: of two workers loading at once, exactly one finds it there.
      `let second = false;\ntry { writeFileSync(${mark}, '', { flag: 'wx' }); } catch { second = true; }\nif (second) ${statement};\n` +
      `export default makeApp('v1');\n`,
  );
  return { dir, app };
}

test('the banner waits for every initial worker: once it shows, both serve', { timeout: 30000 }, async () => {
  // The first worker to load is ready at once; the second takes 1.5 s.
  const { dir, app } = appWhoseSecondWorker('await new Promise((resolve) => setTimeout(resolve, 1500))');
  try {
    await withServer(['--workers=2', app], {}, async (server) => {
      const workers = await waitForWorkers(server.pid, 2);
      const clients = await clientOnEachWorker(server.port, workers, 1000);
      for (const client of clients.values()) client.destroy();
    });
  } finally {
    dir.remove();
  }
});

test('an initial worker that never gets ready does not hold the start for ever: the banner says how many serve', { timeout: 30000 }, async () => {
  // The second worker to load never finishes loading (its event loop runs: its heartbeats come).
  const { dir, app } = appWhoseSecondWorker('await new Promise(() => setInterval(() => {}, 1000))');
  try {
    await withServer(['--workers=2', app], {}, async (server) => {
      assert.match(server.stderr, /Accepting connections at \S+ \(1 of 2 workers ready\)/);
      assert.match(server.stderr, /1 of 2 workers ready \d+\.\d s after the first: serving with them/);
      assert.equal((await get(server.port)).status, 200);
    });
  } finally {
    dir.remove();
  }
});

test('a stop is logged, and so are the connections --graceful-timeout cuts; the master exits once its workers are gone', { timeout: 30000 }, async () => {
  const server = await startServer(['--workers=1', '--graceful-timeout=0.5', APP]);
  try {
    const client = await Client.open(server.port);
    const slow = settle(client.request('/slow?ms=5000'));
    await sleep(200);
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok((await slow).error !== undefined);
    client.destroy();
    assert.match(server.stderr, /SIGTERM: stopping gracefully \(in-flight requests get up to 0\.5 s\)/);
    assert.match(server.stderr, /worker 1\[\d+\] warn: --graceful-timeout \(0\.5 s\) passed: cutting 1 connection still in flight/);
    assert.match(server.stderr, /every worker has exited: the master exits/);
  } finally {
    await server.stop();
  }
});

test('a graceful stop answers the connections queued in the listen backlog', { timeout: 30000 }, async () => {
  await withServer(['--workers=2', APP], {}, async (server) => {
    await seenWorkers(server.port, 2);
    // Both workers block their event loop for a second (if one worker took both, the other
    // accepts what follows): the connections after those wait in the kernel's backlog.
    const blocked = [settle(get(server.port, '/block?ms=1000')), settle(get(server.port, '/block?ms=1000'))];
    await sleep(100);
    // More than one each: libuv accepts one connection a listener per turn of the event loop.
    const held = Array.from({ length: 8 }, () => settle(get(server.port, '/', 10000)));
    await sleep(200);
    server.child.kill('SIGTERM');
    const answers = await Promise.all([...blocked, ...held]);
    assert.deepEqual(answers.map(({ response, error }) => response?.status ?? error.message), Array(10).fill(200));
    assert.deepEqual(await server.exited, { code: 0, signal: null });
  });
});
