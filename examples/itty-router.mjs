// An itty-router app, exported as itty-router documents it (`export default AutoRouter()`).
// The router answers every property read with a function, its own `port` and `hostname`
// included: starlight takes only a number or a string from there, so these are ignored.
import { AutoRouter, text } from 'itty-router';

const router = AutoRouter();

router
  .get('/', () => text('hello from itty-router'))
  .get('/hello/:name', ({ name }) => ({ hello: name }))
  .post('/echo', async (request) => ({ received: await request.text() }));

export default router;
