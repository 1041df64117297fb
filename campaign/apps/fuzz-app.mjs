// The Fetch app campaign/fuzz.mjs serves. POST /echo takes a JSON body
// { status, reason, headers: [[name, value], ...] } of fuzzed strings (CR, LF,
// NUL, characters beyond one byte included) and answers with them as its
// response's status text and header fields: the server must never let one of
// them split the response. Any other request is answered with its method and
// the number of body bytes read, which the fuzzer compares with what the
// parser alone makes of the same bytes.

export default {
  async fetch(request) {
    const body = new Uint8Array(await request.arrayBuffer());
    if (new URL(request.url).pathname !== '/echo') return new Response(`${request.method} ${body.byteLength}`);
    const { status, reason, headers } = JSON.parse(new TextDecoder().decode(body));
    return new Response('echoed', { status, statusText: reason, headers });
  },
};
