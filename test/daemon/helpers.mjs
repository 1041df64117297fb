// Shared by test/daemon/: a free loopback port (these servers log to a file, so the
// banner on stderr cannot tell it), an app that prints one line to stdout and one to
// stderr per request (?n=N) and answers who served it, and a poll of a log file.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
export { freePort } from '../helpers/ports.mjs';
import { waitFor } from '../helpers/wait.mjs';

/** Writes the app: each request prints `app-out N` and `app-err N`; the answer is JSON { pid, uid, gid, n }. */
export function writeLoggingApp(file) {
  writeFileSync(
    file,
    `export default {
  fetch(request) {
    const n = new URL(request.url).searchParams.get('n');
    if (n !== null) {
      console.log('app-out ' + n);
      console.error('app-err ' + n);
    }
    return Response.json({ pid: process.pid, uid: process.getuid(), gid: process.getgid(), n });
  },
};
`,
  );
}

export const read = (file) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

/** Waits until `file` matches `pattern`; returns the text. */
export function waitForLog(file, pattern, timeoutMs = 15000) {
  return waitFor(() => (pattern.test(read(file)) ? read(file) : null), {
    timeoutMs,
    message: () => `${pattern} in ${file}:\n${read(file)}`,
  });
}
