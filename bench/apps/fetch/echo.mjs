// echo: the whole request body read, then sent back.
export default {
  async fetch(request) {
    const body = await request.arrayBuffer();
    return new Response(body, { headers: { 'content-type': 'application/octet-stream' } });
  },
};
