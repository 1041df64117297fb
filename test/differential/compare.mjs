// Compares llhttp's view of an input with ours (results from sides.mjs).
//
// Returns null when they agree, { fail: why } when ours is wrong, or
// { divergence: { code, k, m, rest } } when we refused (or closed the
// connection before) message k that llhttp accepted: allowed only where the
// test's table of deliberate differences says so. `code` is our error code,
// or 'CLOSE' when we close the connection after message k although llhttp keeps
// it open; `m` is llhttp's message k (null if llhttp had not parsed
// its head yet); `rest` is the input from the start of message k as we saw it.

function sameHead(a, b) {
  if (a.method !== b.method || a.target !== b.target || a.version !== b.version) return false;
  if (a.headers.length !== b.headers.length) return false;
  for (let i = 0; i < a.headers.length; i++) {
    if (a.headers[i][0] !== b.headers[i][0] || a.headers[i][1] !== b.headers[i][1]) return false;
  }
  return true;
}

export function compare(ll, ours, input) {
  const text = input.latin1Slice(0, input.length);
  const divergence = (code, k, m) => {
    const start = ours.starts[k] ?? ours.starts[ours.starts.length - 1];
    return { divergence: { code, k, m, rest: text.slice(start) } };
  };
  for (let k = 0; ; k++) {
    const a = ll.msgs[k];
    const b = ours.msgs[k];
    if (!a && !b) break;
    if (a && b) {
      if (!sameHead(a, b)) return { fail: `message ${k}: different heads` };
      if (!a.body.startsWith(b.body) && !b.body.startsWith(a.body)) return { fail: `message ${k}: different body bytes` };
      if (a.complete && b.complete) {
        if (a.body !== b.body) return { fail: `message ${k}: different bodies` };
        if (a.upgrade !== b.upgrade) return { fail: `message ${k}: upgrade ${b.upgrade} here, ${a.upgrade} in llhttp` };
        if (a.keepAlive !== b.keepAlive) {
          if (b.keepAlive) return { fail: `message ${k}: we keep the connection open, llhttp closes it` };
          return divergence('CLOSE', k, a);
        }
        continue;
      }
      if (a.complete) {
        if (ours.end === 'error') return divergence(ours.code, k, a);
        return { fail: `message ${k}: llhttp ended it, we still wait for body bytes` };
      }
      if (b.complete) return { fail: `message ${k}: we ended it, llhttp ${ll.end === 'error' ? `refused it (${ll.code})` : 'still waits for body bytes'}` };
      break; // Both cut off in the same message.
    }
    if (a) {
      // llhttp refused message k after its head: our refusing it is no divergence.
      if (ours.end === 'error' && !a.complete && ll.end === 'error') return null;
      if (ours.end === 'error') return divergence(ours.code, k, a);
      return { fail: `message ${k}: llhttp parsed its head, we did not` };
    }
    return {
      fail: `message ${k}: we parsed it, llhttp ${ll.end === 'error' ? `refused it (${ll.code})` : ll.end === 'closed' ? 'closed the connection before it' : 'did not finish its head'}`,
    };
  }
  // Same messages. Only our refusing more is left to judge; llhttp refusing
  // bytes we still wait on is fine (we have accepted nothing it refused).
  if (ours.end === 'error' && ll.end !== 'error') {
    const k = ours.msgs.length > 0 && !ours.msgs[ours.msgs.length - 1].complete ? ours.msgs.length - 1 : ours.msgs.length;
    return divergence(ours.code, k, ll.msgs[k] ?? null);
  }
  return null;
}
