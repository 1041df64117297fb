// A Koa app, served as it is: `starlight examples/koa.mjs` (with
// `npm install koa`), then open http://localhost:5000/. The default export is
// the Koa application; starlight serves what its callback() returns.
import Koa from 'koa';

const app = new Koa();

// Middleware runs around the rest, as Koa's does anywhere.
app.use(async (ctx, next) => {
  await next();
  ctx.set('X-Served-By', `starlight pid ${process.pid}`);
});

app.use(async (ctx) => {
  if (ctx.path === '/') {
    ctx.body = `Hello from Koa on starlight: ${ctx.method} ${ctx.path}\n`;
  } else if (ctx.path.startsWith('/users/')) {
    ctx.body = { id: ctx.path.slice('/users/'.length), query: ctx.query };
  } else if (ctx.path === '/fail') {
    ctx.throw(418, 'this route fails');
  } else {
    ctx.throw(404);
  }
});

export default app;
