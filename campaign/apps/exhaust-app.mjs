// The app campaign/exhaust.mjs serves: `/` answers "ok"; `/stream?mib=N`
// streams N MiB, one 64 KiB chunk each time the server pulls (a client that
// never reads must hold the server back, not fill its memory); POST `/count`
// reads the request body chunk by chunk and answers how many bytes came.

const CHUNK = new Uint8Array(64 * 1024).fill(0x61);

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/stream') {
      let left = Number(url.searchParams.get('mib') ?? '1') * 16;
      const body = new ReadableStream({
        pull(controller) {
          if (left-- > 0) controller.enqueue(CHUNK);
          else controller.close();
        },
      });
      return new Response(body, { headers: { 'content-type': 'application/octet-stream' } });
    }
    if (url.pathname === '/count') {
      let bytes = 0;
      for await (const chunk of request.body ?? []) bytes += chunk.byteLength;
      return new Response(String(bytes));
    }
    return new Response('ok');
  },
};
