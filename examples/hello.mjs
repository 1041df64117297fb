// The smallest Fetch app: `starlight examples/hello.mjs`, then open http://localhost:5000/
export default {
  fetch(request, context) {
    const url = new URL(request.url);
    return new Response(`Hello from starlight worker ${context.worker.id} (pid ${process.pid}): ${request.method} ${url.pathname}\n`);
  },
};
