// The Fetch tests once more, with the platform's own Request and Response
// (--no-fast-fetch, through STARLIGHT_FAST_FETCH=0, which every server these
// tests start inherits): the same assertions hold for both implementations.
process.env.STARLIGHT_FAST_FETCH = '0';
await import('../fetch/request.test.mjs');
await import('../fetch/response.test.mjs');
await import('../fetch/context.test.mjs');
await import('../fetch/errors.test.mjs');
