// headers: one request header read; five response headers set, two of them Set-Cookie.
export default {
  fetch(request) {
    const headers = new Headers({
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'x-request-id': request.headers.get('x-request-id') ?? '',
    });
    headers.append('set-cookie', 'sid=abc123; Path=/; HttpOnly');
    headers.append('set-cookie', 'theme=dark; Path=/; Max-Age=3600');
    return new Response('Hello, World!', { headers });
  },
};
