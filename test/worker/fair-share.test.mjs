// worker/fair-share.ts on its own, with mocked time: when a worker over its
// share pauses (a burst of 4 in a row, at most once every 20 ms; drift past
// the fair share plus max(4, a tenth)), for how long, and what it reports to
// the master (a change of 2 and an eighth at least, at most every 50 ms, and
// at once after a drift pause 25 ms after the last). The whole balance under
// real load: test/process/shared-socket.test.mjs and master.test.mjs.
import assert from 'node:assert/strict';
import { beforeEach, afterEach, mock, test } from 'node:test';
import { FairShare } from '../../dist/worker/fair-share.js';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

/** Worker 1 of those in `loads`, its connections counted here; what it does is logged. */
function worker(loads = [[1, 0], [2, 0]]) {
  const log = [];
  const state = { open: 0, listening: true };
  const share = new FairShare(1, {
    connections: () => state.open,
    report: (connections) => log.push(`report ${connections}`),
    pause: () => {
      log.push('pause');
      state.listening = false;
      return true;
    },
    resume: () => {
      log.push('resume');
      state.listening = true;
    },
  });
  share.shared(loads);
  return {
    log,
    state,
    share,
    accept(n = 1) {
      for (let i = 0; i < n; i++) {
        state.open++;
        share.accepted();
      }
    },
    close(n = 1) {
      for (let i = 0; i < n; i++) {
        state.open--;
        share.closed();
      }
    },
    pauses: () => log.filter((entry) => entry === 'pause').length,
  };
}

test('4 connections taken in a row, none closing between, pause the worker for 2 ms', () => {
  const w = worker();
  w.accept(3);
  assert.equal(w.pauses(), 0);
  w.accept();
  assert.equal(w.pauses(), 1);
  mock.timers.tick(1);
  assert.equal(w.state.listening, false);
  mock.timers.tick(1);
  assert.equal(w.state.listening, true);
});

test('a close between resets the run: 3, a close, 3 more, no pause', () => {
  const w = worker([[1, 0], [2, 10]]);
  w.accept(3);
  w.close();
  w.accept(3);
  assert.equal(w.pauses(), 0);
});

test('a burst pauses at most once every 20 ms', () => {
  const w = worker([[1, 0], [2, 20]]); // (the other's 20 keep the drift rule out of it)
  w.accept(4);
  mock.timers.tick(2);
  w.accept(8);
  assert.equal(w.pauses(), 1);
  mock.timers.tick(18);
  w.accept(4);
  assert.equal(w.pauses(), 2);
});

test('drift: past the fair share plus max(4, a tenth), a worker pauses at each connection it takes', () => {
  const w = worker([[1, 0], [2, 10]]);
  // One at a time (a close between each two), to keep the burst rule out.
  for (let open = 1; open <= 18; open++) {
    w.accept();
    w.close();
    w.accept();
  }
  assert.equal(w.state.open, 18);
  assert.equal(w.pauses(), 0, '18 against 10: a fair share of 14, and 4 over is allowed');
  w.accept();
  assert.equal(w.pauses(), 1, '19 against 10');
  mock.timers.tick(2);
  w.accept();
  assert.equal(w.pauses(), 2, 'no wait between drift pauses');
  // With many connections the slack is a tenth: 122 against 100 is not over (a fair share of
  // 111, and 11.1 over), 123 is.
  const many = worker([[1, 0], [2, 100]]);
  many.state.open = 121;
  many.accept();
  assert.equal(many.pauses(), 0);
  many.accept();
  assert.equal(many.pauses(), 1);
});

test('a lone worker (the master said no other serves) never pauses', () => {
  const w = worker([]);
  w.accept(50);
  assert.equal(w.pauses(), 0);
});

test('reports: a change of 2 at once after 50 ms quiet, then the latest count 50 ms after the last; not a change under 2 or an eighth', () => {
  const w = worker([[1, 0], [2, 100]]);
  w.accept();
  w.close();
  w.accept(); // (one at a time: no burst)
  assert.deepEqual(w.log, []);
  w.close();
  w.accept();
  w.close();
  mock.timers.tick(50);
  assert.deepEqual(w.log, [], 'counts of 0 and 1 against 0 (the master starts from 0)');
  w.accept(); // 1
  w.close();
  w.accept(); // 1 ... 2
  w.accept();
  assert.deepEqual(w.log, ['report 2']);
  w.close();
  w.close();
  w.accept(); // 1
  w.close(); // 0
  mock.timers.tick(49);
  assert.deepEqual(w.log, ['report 2']);
  mock.timers.tick(1);
  assert.deepEqual(w.log, ['report 2', 'report 0'], 'the count once 50 ms have passed');
  // 40 open: a change of 4 (under an eighth, 5) is not reported.
  w.state.open = 40;
  mock.timers.tick(50);
  w.share.closed();
  w.state.open = 36;
  mock.timers.tick(50);
  w.share.closed();
  assert.deepEqual(w.log, ['report 2', 'report 0', 'report 40']);
});

test('a drift pause reports at once, 25 ms after the last report', () => {
  const w = worker([[1, 0], [2, 10]]);
  w.state.open = 18;
  w.accept(); // 19: over; the first report, at once (50 ms quiet)
  assert.deepEqual(w.log, ['pause', 'report 19']);
  mock.timers.tick(25);
  w.state.open = 22;
  w.share.closed(); // (a close, not reported: 25 ms after the last)
  w.accept(); // 23: over, and 25 ms since the last report
  assert.deepEqual(w.log, ['pause', 'report 19', 'resume', 'pause', 'report 23']);
});
