// A Koa 3 app, served as it is: `starlight examples/koa.mjs` (with
// `npm install koa`), then open http://localhost:5000/. The default export is
// the Koa application; starlight serves what its callback() returns.
//
// Its routes are those of every framework example here (test/frameworks/ checks
// them): GET /users/:id, POST /echo (JSON in and out), GET /stream?chunks=N&gap=MS,
// GET /cookies (sets two, reads `session`), GET /fail (throws). Koa has no router
// of its own: a small table of patterns stands in for @koa/router.
import { Readable } from 'node:stream';
import Koa from 'koa';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The request's body parsed as JSON (Koa leaves body parsing to middleware such as koa-bodyparser). */
async function jsonBody(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return JSON.parse(text);
}

async function* numberedChunks(chunks, gap) {
  for (let i = 1; i <= chunks; i++) {
    if (i > 1) await sleep(gap);
    yield `chunk ${i}\n`;
  }
}

const routes = [
  ['GET', /^\/$/, (ctx) => (ctx.body = `Hello from Koa on starlight: ${ctx.method} ${ctx.path}\n`)],
  ['GET', /^\/users\/([^/]+)$/, (ctx, id) => (ctx.body = { id, pid: process.pid })],
  ['POST', /^\/echo$/, async (ctx) => (ctx.body = { received: await jsonBody(ctx.req) })],
  [
    'GET',
    /^\/stream$/,
    (ctx) => {
      ctx.type = 'text/plain';
      ctx.body = Readable.from(numberedChunks(Number(ctx.query.chunks ?? 3), Number(ctx.query.gap ?? 20)));
    },
  ],
  [
    'GET',
    /^\/cookies$/,
    (ctx) => {
      ctx.cookies.set('visits', '1', { httpOnly: true, path: '/' });
      ctx.cookies.set('theme', 'dark', { httpOnly: false, path: '/' });
      ctx.body = { session: ctx.cookies.get('session') ?? null };
    },
  ],
  [
    'GET',
    /^\/fail$/,
    () => {
      throw new Error('this route fails');
    },
  ],
];

const app = new Koa();

// Middleware runs around the rest, as Koa's does anywhere.
app.use(async (ctx, next) => {
  await next();
  ctx.set('X-Served-By', `starlight pid ${process.pid}`);
});

app.use(async (ctx) => {
  for (const [method, pattern, handle] of routes) {
    const match = ctx.method === method ? pattern.exec(ctx.path) : null;
    if (match !== null) return handle(ctx, ...match.slice(1).map(decodeURIComponent));
  }
  ctx.throw(404);
});

export default app;
