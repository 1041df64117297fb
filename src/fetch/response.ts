// Writing the app's Response: status, header fields (several Set-Cookie stay
// separate) and body. A body whose length is known when it is first read goes
// out in one write with Content-Length; a longer or slower one streams, chunk
// by chunk with backpressure (chunked coding, or the app's own
// Content-Length, which must then be exact).

import type { Exchange } from '../http/exchange.js';
import { ResponseState } from '../http/response.js';
import type { ResponseParts } from './light/fast-response.js';
import { isBodiless } from '../http/writer.js';

/** Bytes gathered before giving up on sending a body in one write. */
const WHOLE_BODY_LIMIT = 64 * 1024;
const LATER = Symbol('later');
type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;

/**
 * Turns of the event loop a read may take and still count as immediate: a
 * Blob's stream takes two per part on Node 24 (one on Node 20).
 */
const SOON_TURNS = 4;

/** Microtask turns a read of a body that is all there takes (a string's, a buffer's). */
const SOON_MICROTASKS = 3;

/** A read that settles within SOON_TURNS turns of the event loop, or LATER. */
async function readSoon(read: Promise<ReadResult>): Promise<ReadResult | typeof LATER> {
  let settled = false;
  const done = () => {
    settled = true;
  };
  read.then(done, done);
  // Most bodies are there already: their reads settle within a few microtasks.
  for (let turn = 0; turn < SOON_MICROTASKS && !settled; turn++) await null;
  if (settled) return read;
  const later = new Promise<typeof LATER>((resolve) => {
    let turns = 0;
    const step = () => {
      if (settled) return;
      if (++turns >= SOON_TURNS) resolve(LATER);
      else setImmediate(step);
    };
    setImmediate(step);
  });
  return Promise.race([read, later]);
}

function checkChunk(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new TypeError(`the response body stream produced ${typeof value}, not a Uint8Array`);
}

/** The app's own Content-Length, if it is a valid one; else -1. */
function declaredLength(value: string | null | undefined): number {
  return typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : -1;
}

/** A FastResponse in its light form: written as it is, with no stream in between. */
export function sendLightResponse(exchange: Exchange, parts: ResponseParts): void {
  let declared = -1;
  if (parts.body === null) {
    for (const [name, value] of parts.fields) if (name.length === 14 && name.toLowerCase() === 'content-length') declared = declaredLength(value);
  }
  exchange.respond(parts.status, parts.fields, parts.body, true, declared);
}

export async function sendResponse(exchange: Exchange, response: Response): Promise<void> {
  const fields = [...response.headers];
  const status = response.status;
  const body = response.body;
  if (body === null) {
    exchange.respond(status, fields, null, false, declaredLength(response.headers.get('content-length')));
    return;
  }
  const reader = body.getReader();
  exchange.onAbort(() => {
    reader.cancel().catch(() => {});
  });
  // Gather what the stream has at once: if it ends, the length is known.
  const chunks: Uint8Array[] = [];
  let gathered = 0;
  let pending: Promise<ReadResult> | null = reader.read();
  while (pending !== null) {
    const result = await readSoon(pending);
    if (result === LATER) break;
    pending = null;
    if (result.done) {
      exchange.respond(status, fields, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, gathered));
      return;
    }
    const chunk = checkChunk(result.value);
    chunks.push(chunk);
    gathered += chunk.byteLength;
    if (gathered <= WHOLE_BODY_LIMIT) pending = reader.read();
  }

  // The rest streams. Nothing is sent before the head: it goes out now, so a
  // client of a slow stream (server-sent events) sees the response at once.
  const first = chunks.length === 0 ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, gathered);
  const declared = declaredLength(response.headers.get('content-length'));
  const bodiless = isBodiless(exchange.head.method, status);
  // The app's own Content-Length must be exact: a body that breaks it is an app
  // error, thrown here (so that it is logged) before the exchange would cut it.
  let remaining = bodiless ? -1 : declared;
  const count = (chunk: Uint8Array) => {
    if (remaining < 0) return chunk;
    if (chunk.byteLength > remaining) throw new Error(`the body is longer than its Content-Length ${declared} says`);
    remaining -= chunk.byteLength;
    return chunk;
  };
  let writable = exchange.beginStream(status, fields, false, declared, first === null ? null : count(first));
  if (bodiless) {
    await reader.cancel().catch(() => {});
    exchange.endStream();
    return;
  }
  for (;;) {
    if (!writable) await exchange.drained();
    if (exchange.state !== ResponseState.STREAMING) {
      await reader.cancel().catch(() => {});
      return;
    }
    const next: ReadResult = await (pending ?? reader.read());
    pending = null;
    if (next.done) break;
    writable = exchange.writeChunk(count(checkChunk(next.value)));
  }
  if (remaining > 0) throw new Error(`the body ended ${remaining} bytes short of its Content-Length ${declared}`);
  exchange.endStream();
}
