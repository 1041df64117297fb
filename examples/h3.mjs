// An h3 v2 app: `starlight examples/h3.mjs` (with `npm install h3`; h3 v2 needs
// Node 20.19 or later), then open http://localhost:5000/. h3 v2 is built on the
// Fetch API: an H3 app has a fetch(request) method, so it is a Fetch app as it
// is, with no toNodeListener() or serve() in between.
//
// Its routes are those of every framework example here (test/frameworks/ checks
// them): GET /users/:id, POST /echo (JSON in and out), GET /stream?chunks=N&gap=MS,
// GET /cookies (sets two, reads `session`), GET /fail (throws).
import { H3, getCookie, getQuery, getRouterParam, readBody, setCookie } from 'h3';

const app = new H3();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

app.get('/', (event) => `Hello from h3 on starlight (pid ${process.pid}): ${event.req.method} ${event.url.pathname}\n`);
app.get('/users/:id', (event) => ({ id: getRouterParam(event, 'id'), pid: process.pid }));
app.post('/echo', async (event) => ({ received: await readBody(event) }));
// A ReadableStream returned is the response's body: each chunk goes out as one chunk of a chunked response.
app.get('/stream', (event) => {
  const { chunks = 3, gap = 20 } = getQuery(event);
  const encoder = new TextEncoder();
  let i = 0;
  event.res.headers.set('content-type', 'text/plain; charset=utf-8');
  return new ReadableStream({
    async pull(controller) {
      if (++i > Number(chunks)) return controller.close();
      if (i > 1) await sleep(Number(gap));
      controller.enqueue(encoder.encode(`chunk ${i}\n`));
    },
  });
});
app.get('/cookies', (event) => {
  setCookie(event, 'visits', '1', { httpOnly: true, path: '/' });
  setCookie(event, 'theme', 'dark', { path: '/' });
  return { session: getCookie(event, 'session') ?? null };
});
// h3's own error handler answers 500 with a JSON body.
app.get('/fail', () => {
  throw new Error('this route fails');
});

export default app;
