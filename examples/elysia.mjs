// An Elysia app: `starlight examples/elysia.mjs` (with `npm install elysia`), then
// open http://localhost:5000/. Elysia is written for Bun, but an Elysia app has
// a fetch(request) method built on the Fetch API, so Node runs it as a Fetch app
// (`export default app`), with no @elysiajs/node adapter.
//
// Its routes are those of every framework example here (test/frameworks/ checks
// them): GET /users/:id, POST /echo (JSON in and out), GET /stream?chunks=N&gap=MS,
// GET /cookies (sets two, reads `session`), GET /fail (throws).
import { Elysia } from 'elysia';

const encoder = new TextEncoder();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const app = new Elysia()
  .get('/', ({ request }) => `Hello from Elysia on starlight (pid ${process.pid}): ${request.method} ${new URL(request.url).pathname}\n`)
  .get('/users/:id', ({ params }) => ({ id: params.id, pid: process.pid }))
  .post('/echo', ({ body }) => ({ received: body }))
  // A generator streams, each yield one chunk. It yields bytes: Elysia puts a yielded
  // string into the stream as a string, which Bun takes and Node's Response (and
  // starlight) refuse, as the Fetch standard says.
  .get('/stream', async function* ({ query, set }) {
    set.headers['content-type'] = 'text/plain; charset=utf-8';
    const chunks = Number(query.chunks ?? 3);
    for (let i = 1; i <= chunks; i++) {
      if (i > 1) await sleep(Number(query.gap ?? 20));
      yield encoder.encode(`chunk ${i}\n`);
    }
  })
  .get('/cookies', ({ cookie: { session, visits, theme } }) => {
    visits.set({ value: '1', httpOnly: true, path: '/' });
    theme.set({ value: 'dark', path: '/' });
    return { session: session.value ?? null };
  })
  // Elysia's own error handler answers 500 (onError() would replace it).
  .get('/fail', () => {
    throw new Error('this route fails');
  });

export default app;
