// The engine's clock for deadlines and the Date header. Date.now() is a call
// into the runtime, and a request read it three times (its deadline on
// arrival, the Date of its response, the keep-alive deadline after it); the
// time is instead read once per turn of the event loop, as libuv does for its
// timers, and kept until the turn's check phase. One first read in the check
// phase itself expires in the next turn's; the loop does not wait for I/O while
// that immediate is pending, so the time is never older than one turn's work.

let cached = 0;
let stale = true;

function expire(): void {
  stale = true;
}

/** Milliseconds since the epoch, as of this event-loop turn. */
export function loopNow(): number {
  if (stale) {
    cached = Date.now();
    stale = false;
    setImmediate(expire);
  }
  return cached;
}
