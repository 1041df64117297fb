// An itty-router 5 app, exported as itty-router documents it (`export default AutoRouter()`):
// `starlight examples/itty-router.mjs` (with `npm install itty-router`). The router answers
// every property read with a function, its own `port` and `hostname` included: starlight takes
// only a number or a string from there, so these are ignored.
//
// Its routes are those of every framework example here (test/frameworks/ checks
// them): GET /users/:id, POST /echo (JSON in and out), GET /stream?chunks=N&gap=MS,
// GET /cookies (sets two, reads `session`), GET /fail (throws); and GET /hello/:name.
import { AutoRouter, json, text, withCookies } from 'itty-router';

const router = AutoRouter();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A byte stream of `chunks` lines, `gap` ms apart. */
function numberedChunks(chunks, gap) {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream({
    async pull(controller) {
      if (++i > chunks) return controller.close();
      if (i > 1) await sleep(gap);
      controller.enqueue(encoder.encode(`chunk ${i}\n`));
    },
  });
}

router
  .get('/', () => text('hello from itty-router'))
  .get('/hello/:name', ({ name }) => ({ hello: name }))
  .get('/users/:id', ({ id }) => ({ id, pid: process.pid }))
  .post('/echo', async (request) => ({ received: await request.json() }))
  .get('/stream', ({ query }) => {
    const body = numberedChunks(Number(query.chunks ?? 3), Number(query.gap ?? 20));
    return new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  })
  // itty-router has no helper to set cookies: a response's Set-Cookie fields are appended one by one.
  .get('/cookies', withCookies, ({ cookies }) => {
    const response = json({ session: cookies.session ?? null });
    response.headers.append('set-cookie', 'visits=1; Path=/; HttpOnly');
    response.headers.append('set-cookie', 'theme=dark; Path=/');
    return response;
  })
  // AutoRouter's catch answers 500 with { status, error }.
  .get('/fail', () => {
    throw new Error('this route fails');
  });

export default router;
