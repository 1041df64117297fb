// plaintext (also pipelined and no-keepalive): a fixed text answer, as a Fetch app for starlight.
export default {
  fetch() {
    return new Response('Hello, World!', { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  },
};
