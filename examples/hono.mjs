// A Hono 4 app: `starlight examples/hono.mjs` (with `npm install hono`), then
// open http://localhost:5000/. A Hono app has a fetch(request, env) method, so
// it is a Fetch app as it is (`export default app`, as Hono's docs write it for
// Bun and Cloudflare Workers); no @hono/node-server in between. Hono's `c.env`
// is starlight's context.
//
// Its routes are those of every framework example here (test/frameworks/ checks
// them): GET /users/:id, POST /echo (JSON in and out), GET /stream?chunks=N&gap=MS,
// GET /cookies (sets two, reads `session`), GET /fail (throws).
import { Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { stream } from 'hono/streaming';

const app = new Hono();

app.get('/', (c) => c.text(`Hello from Hono on starlight worker ${c.env.worker.id} (pid ${process.pid}): ${c.req.method} ${c.req.path}\n`));
app.get('/users/:id', (c) => c.json({ id: c.req.param('id'), pid: process.pid }));
app.post('/echo', async (c) => c.json({ received: await c.req.json() }));
// Each write goes out as it is made, as one chunk of a chunked response.
app.get('/stream', (c) => {
  const chunks = Number(c.req.query('chunks') ?? 3);
  const gap = Number(c.req.query('gap') ?? 20);
  c.header('Content-Type', 'text/plain; charset=utf-8');
  return stream(c, async (out) => {
    for (let i = 1; i <= chunks; i++) {
      if (i > 1) await out.sleep(gap);
      await out.write(`chunk ${i}\n`);
    }
  });
});
app.get('/cookies', (c) => {
  setCookie(c, 'visits', '1', { httpOnly: true, path: '/' });
  setCookie(c, 'theme', 'dark', { path: '/' });
  return c.json({ session: getCookie(c, 'session') ?? null });
});
// Hono's own error handler answers 500 (app.onError() would replace it).
app.get('/fail', () => {
  throw new Error('this route fails');
});

export default app;
