// Starts starlight (--workers=0) with test/fixtures/fetch-app.mjs and adds the
// helpers the Fetch tests share: plain GETs, the app's gates and state, and a
// way to be sure stderr has caught up before counting log records.
// Importing this module has no side effect (the test runner may import it).
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';
import { waitFor } from './wait.mjs';

export const FETCH_APP = fileURLToPath(new URL('../fixtures/fetch-app.mjs', import.meta.url));

/** Occurrences of `needle` in `text`. */
export function count(text, needle) {
  let n = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** A unique id for gates and state. */
export const uid = () => randomUUID().slice(0, 8);

export async function startFetchApp(args = [], opts = {}) {
  const server = await startServer(['--workers=0', ...args, FETCH_APP], opts);
  const get = async (path, init) => {
    const response = await fetch(server.url(path), init);
    return { response, status: response.status, headers: response.headers, text: await response.text() };
  };
  return Object.assign(server, {
    get,
    /** Opens the app's gate `id`. */
    open: (id) => get(`/open?id=${encodeURIComponent(id)}`),
    /** What the app recorded under `id`: { has, value }. */
    state: async (id) => JSON.parse((await get(`/state?id=${encodeURIComponent(id)}`)).text),
    /** Resolves once every stderr record written so far has reached us (the app writes a marker; stderr is ordered). */
    async settleLog() {
      const m = uid();
      await get(`/mark?m=${m}`);
      await waitFor(() => server.stderr.includes(`MARK ${m}\n`), { message: 'the log marker' });
    },
  });
}
