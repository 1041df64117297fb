// A raw-socket HTTP/1.1 client for tests, and a strict parser of what a server
// sends back.
//
//   const r = await rawRequest(port, ['GET / HTTP/1.1\r\nHo', 'st: x\r\n\r\n'], { pauseMs: 5 });
//   r.data      every byte received (Buffer)
//   r.closed    'fin' (the server closed cleanly), 'reset', or 'timeout' (still open when we gave up)
//   parseResponses(r.data, { closed: r.closed === 'fin', methods: ['GET'] })
//
// `RawConnection` is the same client step by step (write, wait for a condition,
// pause reading, half-close) for tests that talk back and forth:
//
//   const c = await RawConnection.connect(port);
//   c.write(httpRequest('POST', '/echo', { body: 'abc' }));
//   const { responses, error } = await c.responses(1);   // waits for 1 final response
//   assert.equal(await c.waitClosed(), 'fin');
//   c.destroy();
//
//   await c.waitForText('first;');                    // throws with what came if it does not
//   const { all, partial } = await c.untilClosed();  // waits for the close; throws on a framing error
//
// exchange(port, bytes) is that for one request on a new connection.
// httpRequest() builds request bytes (Host and Content-Length filled in).
//
// parseResponses() splits the bytes into responses and fails on anything an
// HTTP/1.1 server must not send: a status line that is not `HTTP/1.1 NNN ...`,
// a malformed field line, bare LF, a bad, duplicate or conflicting
// Content-Length / Transfer-Encoding, a framing field on 1xx/204, a malformed
// chunk, a body cut short by the close, or bytes after a `Connection: close`
// response. Responses to HEAD (say which, with `methods` or `method`), 1xx,
// 204 and 304 have no body; a response without Content-Length or chunked
// coding runs to the close. The response the data ends inside is `partial`
// (its head, and its body so far), for tests that watch a stream arrive.

import net from 'node:net';
import { sleep } from './wait.mjs';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** field-value: VCHAR / obs-text / SP / HTAB, no leading or trailing whitespace. */
const FIELD_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?$/;
const STATUS_LINE = /^HTTP\/1\.1 ([1-9][0-9]{2}) ([\t\x20-\x7e\x80-\xff]*)$/;

/**
 * @typedef {object} Response
 * @property {number} status
 * @property {string} reason
 * @property {Array<[string, string]>} headers  in order, names as sent, duplicates kept
 * @property {Buffer} body  decoded (chunked coding removed)
 * @property {'none'|'length'|'chunked'|'close'} framing
 * @property {Buffer[]} chunks  a chunked body's chunk data as the server framed it
 * @property {Array<[string, string]>} trailers
 * @property {boolean} complete  false for the `partial` response (its body so far)
 * @property {number} start  offset of the status line in the data
 * @property {number} end  offset just past the response
 * @property {(name: string) => string|undefined} header  the first value of a field (name in any case)
 * @property {(name: string) => string[]} all  every value of a field
 * @property {(name: string) => string|null} get  every value of a field joined by ', ', null when absent (as Headers.get)
 * @property {boolean} close  whether `Connection` lists `close`
 * @property {string} text  the body as UTF-8
 */

/**
 * Splits a server's byte stream into responses.
 * @param {Buffer} data
 * @param {{ methods?: string[], method?: string, closed?: boolean }} [options]
 *   methods: the request method of each final response in order (a HEAD's has no body); default GET.
 *   method: the same for the first final response only (`method: 'HEAD'` is `methods: ['HEAD']`).
 *   closed: the server closed the stream after `data` (a close-delimited body is then complete,
 *   and a response cut short is an error rather than still incomplete).
 * @returns {{ responses: Response[], interim: Response[], all: Response[], partial: Response|null,
 *   error: string|null, incomplete: boolean, leftover: Buffer }}
 *   responses: the final ones; interim: the 1xx ones; all: both, in order.
 *   partial: the response the data ends inside, once its head is all here: its body so far,
 *   `complete` false (still arriving, or cut short when `closed`).
 *   error: the first framing error (parsing stops there; leftover starts at the failing response).
 *   incomplete: the data ends inside a response and the stream was not closed.
 */
export function parseResponses(data, options = {}) {
  const methods = options.methods ?? (options.method === undefined ? [] : [options.method]);
  const closed = options.closed ?? false;
  const result = { responses: [], interim: [], all: [], partial: null, error: null, incomplete: false, leftover: data.subarray(data.length) };
  let pos = 0;
  const fail = (at, message) => {
    result.error = `${message} (at byte ${at}${result.all.length ? `, after ${result.all.length} response(s)` : ''})`;
    result.leftover = data.subarray(at);
    return result;
  };
  /** The data ends inside the response at `start`; `response`: its head, if all here, with `body` so far. */
  const stop = (start, response = null, body = data.subarray(data.length)) => {
    if (response !== null) {
      response.body = body;
      response.complete = false;
      result.partial = response;
    }
    if (closed) return fail(start, 'the connection closed inside a response');
    result.incomplete = true;
    result.leftover = data.subarray(start);
    return result;
  };
  /** Reads a CRLF-terminated line from `at`: [line, next] or null if not all here; throws on bare LF / CR. */
  const line = (at) => {
    const lf = data.indexOf(0x0a, at);
    if (lf === -1) return null;
    if (lf === at || data[lf - 1] !== 0x0d) throw new Error('bare LF');
    const text = data.latin1Slice(at, lf - 1);
    if (text.includes('\r')) throw new Error('bare CR');
    return [text, lf + 1];
  };

  while (pos < data.length) {
    const start = pos;
    let status;
    let reason;
    const headers = [];
    // Head.
    try {
      const first = line(pos);
      if (first === null) {
        if (!'HTTP/1.1 '.startsWith(data.latin1Slice(pos, Math.min(data.length, pos + 9)))) return fail(start, 'not a status line');
        return stop(start);
      }
      const m = STATUS_LINE.exec(first[0]);
      if (m === null) return fail(start, `bad status line ${JSON.stringify(first[0])}`);
      status = Number(m[1]);
      reason = m[2];
      pos = first[1];
      for (;;) {
        const l = line(pos);
        if (l === null) return stop(start);
        pos = l[1];
        if (l[0] === '') break;
        const colon = l[0].indexOf(':');
        const name = colon === -1 ? '' : l[0].slice(0, colon);
        const value = colon === -1 ? '' : l[0].slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
        if (!TOKEN.test(name)) return fail(start, `bad field line ${JSON.stringify(l[0])}`);
        if (!FIELD_VALUE.test(value)) return fail(start, `bad field value ${JSON.stringify(l[0])}`);
        headers.push([name, value]);
      }
    } catch (error) {
      return fail(start, `${error.message} in a response head`);
    }
    const response = makeResponse(status, reason, headers, start);
    const lengths = response.all('content-length');
    const codings = response.all('transfer-encoding');
    if (lengths.length > 1) return fail(start, `${lengths.length} Content-Length fields`);
    if (lengths.length === 1 && !/^[0-9]+$/.test(lengths[0])) return fail(start, `bad Content-Length ${JSON.stringify(lengths[0])}`);
    if (codings.length > 1 || (codings.length === 1 && codings[0].toLowerCase() !== 'chunked')) {
      return fail(start, `unexpected Transfer-Encoding ${JSON.stringify(codings.join(', '))}`);
    }
    if (lengths.length === 1 && codings.length === 1) return fail(start, 'both Content-Length and Transfer-Encoding');
    if ((status < 200 || status === 204) && (lengths.length > 0 || codings.length > 0)) {
      return fail(start, `a ${status} response with a framing field`);
    }
    const interim = status < 200;
    const method = interim ? undefined : (methods[result.responses.length] ?? 'GET');

    // Body.
    if (interim || method === 'HEAD' || status === 204 || status === 304) {
      response.framing = 'none';
    } else if (codings.length === 1) {
      response.framing = 'chunked';
      const chunks = response.chunks;
      const soFar = () => Buffer.concat(chunks);
      for (;;) {
        let l;
        try {
          l = line(pos);
        } catch (error) {
          return fail(pos, `${error.message} in a chunk-size line`);
        }
        if (l === null) return stop(start, response, soFar());
        if (!/^[0-9A-Fa-f]{1,15}$/.test(l[0])) return fail(pos, `bad chunk-size line ${JSON.stringify(l[0].slice(0, 40))}`);
        const size = parseInt(l[0], 16);
        pos = l[1];
        if (size === 0) break;
        chunks.push(data.subarray(pos, Math.min(data.length, pos + size)));
        if (data.length < pos + size + 2) return stop(start, response, soFar());
        if (data[pos + size] !== 0x0d || data[pos + size + 1] !== 0x0a) return fail(pos + size, 'chunk data not followed by CRLF');
        pos += size + 2;
      }
      for (;;) {
        let l;
        try {
          l = line(pos);
        } catch (error) {
          return fail(pos, `${error.message} in the trailer section`);
        }
        if (l === null) return stop(start, response, soFar());
        pos = l[1];
        if (l[0] === '') break;
        const colon = l[0].indexOf(':');
        if (colon <= 0 || !TOKEN.test(l[0].slice(0, colon))) return fail(pos, `bad trailer line ${JSON.stringify(l[0])}`);
        response.trailers.push([l[0].slice(0, colon), l[0].slice(colon + 1).trim()]);
      }
      response.body = soFar();
    } else if (lengths.length === 1) {
      response.framing = 'length';
      const length = Number(lengths[0]);
      if (data.length < pos + length) return stop(start, response, data.subarray(pos));
      response.body = data.subarray(pos, pos + length);
      pos += length;
    } else {
      response.framing = 'close';
      if (!closed) return stop(start, response, data.subarray(pos));
      response.body = data.subarray(pos);
      pos = data.length;
    }
    response.end = pos;
    result.all.push(response);
    (interim ? result.interim : result.responses).push(response);
    if (!interim && response.close && pos < data.length) return fail(pos, 'bytes after a Connection: close response');
  }
  return result;
}

function makeResponse(status, reason, headers, start) {
  return {
    status,
    reason,
    headers,
    body: Buffer.alloc(0),
    framing: 'none',
    chunks: [],
    trailers: [],
    complete: true,
    start,
    end: start,
    header(name) {
      const lower = name.toLowerCase();
      return headers.find(([n]) => n.toLowerCase() === lower)?.[1];
    },
    all(name) {
      const lower = name.toLowerCase();
      return headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
    },
    get(name) {
      const values = this.all(name);
      return values.length === 0 ? null : values.join(', ');
    },
    get close() {
      return this.all('connection').some((v) => v.split(',').some((t) => t.trim().toLowerCase() === 'close'));
    },
    get text() {
      return this.body.toString('utf8');
    },
  };
}

/** One test connection to 127.0.0.1:port, driven step by step. */
export class RawConnection {
  /**
   * @param {number|string} port  a port of 127.0.0.1, or the path of a UNIX socket
   * @param {{ localAddress?: string, allowHalfOpen?: boolean, timeoutMs?: number }} [options]
   *   localAddress: bind the client side (e.g. 127.1.2.3 to tag a connection).
   *   allowHalfOpen (default true): our side stays open after the server's FIN until end();
   *   false: it ends then, as an ordinary client's does.
   *   timeoutMs: fail ('connect timed out') if not connected by then.
   * @returns {Promise<RawConnection>}
   */
  static connect(port, options = {}) {
    const { localAddress, allowHalfOpen = true, timeoutMs } = options;
    return new Promise((resolve, reject) => {
      const where = typeof port === 'string' ? { path: port } : { host: '127.0.0.1', port, localAddress };
      const socket = net.connect({ ...where, allowHalfOpen });
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              socket.destroy();
              reject(new Error('connect timed out'));
            }, timeoutMs);
      const failed = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', failed);
        resolve(new RawConnection(socket));
      });
      socket.once('error', failed);
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.socket.setNoDelay(true);
    this.chunks = [];
    /** Bytes received in all (also those not kept after discardData()). */
    this.length = 0;
    this.keep = true;
    /** null while open; then 'fin' (the server's FIN came first) or 'reset' (an error came first, its code in `errorCode`). */
    this.closed = null;
    this.errorCode = null;
    this.waiters = new Set();
    socket.on('data', (chunk) => {
      if (this.keep) this.chunks.push(chunk);
      this.length += chunk.length;
      this.notify();
    });
    socket.on('end', () => {
      this.closed ??= 'fin';
      // Our side stays open until we end it: finish what we write, then close.
      this.notify();
    });
    socket.on('error', (error) => {
      this.errorCode = error.code ?? error.message;
      this.closed ??= 'reset';
      this.notify();
    });
    socket.on('close', () => {
      this.closed ??= 'reset';
      this.notify();
    });
  }

  /** Everything received so far. */
  get data() {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** `data` as latin1 text (one character a byte). */
  get text() {
    return this.data.latin1Slice();
  }

  /** Writes bytes (string: latin1); false once the connection is closed. */
  write(bytes) {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    return true;
  }

  /** Half-closes our side (FIN). */
  end() {
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.end();
  }

  /** Forgets the first `length` bytes kept (responses already read), so that a long keep-alive conversation is not parsed from its start again and again. */
  drop(length) {
    this.chunks = [this.data.subarray(length)];
  }

  /** From now on only counts what arrives (`length`), for long responses. */
  discardData() {
    this.keep = false;
  }

  /** Stops reading (the server's writes back up), or starts again. */
  pause() {
    this.socket.pause();
  }
  resume() {
    this.socket.resume();
  }

  destroy() {
    this.socket.destroy();
  }

  /** parseResponses() of what came so far, `closed` set from the connection's state. */
  parse(options = {}) {
    return parseResponses(this.data, { ...options, closed: this.closed !== null });
  }

  /**
   * Resolves true when `condition(this)` holds (checked now and on every event), or false
   * after `timeoutMs` or once the connection closed without it holding.
   */
  until(condition, timeoutMs = 5000) {
    if (condition(this)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = () => {
        if (condition(this)) done(true);
        // Nothing more can arrive after the server's FIN or a reset.
        else if (this.closed !== null) done(false);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (value) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(value);
      };
      this.waiters.add(waiter);
    });
  }

  /** Waits for `n` final responses; resolves the parse (check .responses.length). */
  async responses(n, options = {}, timeoutMs = 5000) {
    await this.until((c) => {
      const r = c.parse(options);
      return r.error !== null || r.responses.length >= n;
    }, timeoutMs);
    return this.parse(options);
  }

  /** Waits until the server has closed (resolves 'fin' or 'reset') or `timeoutMs` passed ('timeout'). */
  async waitClosed(timeoutMs = 5000) {
    const ok = await this.until((c) => c.closed !== null, timeoutMs);
    return ok ? this.closed : 'timeout';
  }

  /** Waits until `text` (latin1) has arrived; throws, with what did, after `timeoutMs` or once the connection closed without it. */
  async waitForText(text, timeoutMs = 5000) {
    if (!(await this.until((c) => c.text.includes(text), timeoutMs))) {
      throw new Error(`${JSON.stringify(text)} not received (${this.closed ?? `open after ${timeoutMs} ms`}); received:\n${this.text}`);
    }
  }

  /**
   * Waits until the server has closed, ends our side too, and returns parse() of all it sent. Throws if it is still
   * open after `timeoutMs`, or on a framing error other than a last response cut short (that one
   * is `partial`), so that a test reading whole responses also checks their framing.
   */
  async untilClosed(options = {}, timeoutMs = 5000) {
    if ((await this.waitClosed(timeoutMs)) === 'timeout') throw new Error(`not closed after ${timeoutMs} ms; received:\n${this.text}`);
    this.end();
    const parsed = this.parse(options);
    if (parsed.error !== null && parsed.partial === null) throw new Error(`not well-formed HTTP/1.1: ${parsed.error}\n${this.text}`);
    return parsed;
  }

  notify() {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * Connects, writes `pieces` one after another (with `pauseMs` between them, so the server
 * reads them separately), then collects everything until the server closes or `timeoutMs`
 * passes. With `end`, our side half-closes after the last piece. Pieces not yet written when
 * the server closes are not written.
 * @param {number} port
 * @param {Array<Buffer|string>} pieces  strings are latin1
 * @param {{ pauseMs?: number, timeoutMs?: number, end?: boolean, localAddress?: string }} [options]
 * @returns {Promise<{ data: Buffer, closed: 'fin'|'reset'|'timeout', errorCode: string|null, written: number }>}
 *   written: how many pieces went out
 */
export async function rawRequest(port, pieces, options = {}) {
  const { pauseMs = 0, timeoutMs = 5000, end = false } = options;
  const connection = await RawConnection.connect(port, options);
  let written = 0;
  for (const piece of pieces) {
    if (written > 0 && pauseMs > 0) await sleep(pauseMs);
    if (connection.closed !== null || !connection.write(piece)) break;
    written++;
  }
  if (end) connection.end();
  const closed = await connection.waitClosed(timeoutMs);
  connection.end();
  connection.destroy();
  return { data: connection.data, closed, errorCode: connection.errorCode, written };
}

/**
 * Sends `bytes` on a new connection and returns untilClosed(options): the parse of everything
 * the server sent until it closed (throws if it did not within `timeoutMs`, or on a framing error).
 * @param {number} port
 * @param {Buffer|string} bytes  a string is latin1
 * @param {{ method?: string, methods?: string[], timeoutMs?: number }} [options]
 * @returns {Promise<ReturnType<typeof parseResponses>>}
 */
export async function exchange(port, bytes, options = {}) {
  const { timeoutMs = 5000, ...parseOptions } = options;
  const connection = await RawConnection.connect(port);
  try {
    connection.write(bytes);
    return await connection.untilClosed(parseOptions, timeoutMs);
  } finally {
    connection.destroy();
  }
}

/**
 * Sends `bytes`, half-closes (our FIN), and waits for the server to close.
 * @param {number} port
 * @param {Buffer} bytes
 * @returns {Promise<{ closed: 'fin'|'reset'|'timeout', responses: ReturnType<typeof parseResponses>['responses'], error: string|null }>}
 */
export async function sendAndHalfClose(port, bytes) {
  const connection = await RawConnection.connect(port);
  connection.write(bytes);
  connection.end();
  const closed = await connection.waitClosed();
  const { responses, error } = connection.parse();
  connection.destroy();
  return { closed, responses, error };
}

/**
 * Sends `request` on a new connection, waits for its one response and the
 * server's FIN, then (`afterMs` later) writes more every 50 ms: resolves the
 * reset's code if the server's side answers with one (it had closed: at once,
 * or once its close had lingered long enough), or 'read and dropped' after
 * 500 ms (its close lingers).
 */
export async function writeAfterFin(port, request, { afterMs = 0 } = {}) {
  const c = await RawConnection.connect(port);
  c.write(request);
  if ((await c.waitClosed(3000)) !== 'fin') throw new Error(`no FIN after the response: ${c.closed ?? 'open'}`);
  if (c.parse().responses.length !== 1) throw new Error(`not one response: ${c.text}`);
  await sleep(afterMs);
  const reset = new Promise((resolve) => c.socket.once('error', (error) => resolve(error.code)));
  const late = () => c.write(httpRequest('GET', '/late'));
  late();
  const timer = setInterval(late, 50);
  const outcome = await Promise.race([reset, new Promise((resolve) => setTimeout(() => resolve('read and dropped'), 500))]);
  clearInterval(timer);
  c.destroy();
  return outcome;
}

/**
 * The bytes of a request. HTTP/1.1 requests get `Host: test` unless `headers` has a Host
 * (`host: null` leaves it out); a body gets a Content-Length unless a Content-Length or
 * Transfer-Encoding is given (then the body is sent as it is).
 * @param {string} method
 * @param {string} target
 * @param {{ version?: string, headers?: Record<string, string|null>|Array<[string, string]>, body?: string|Buffer }} [options]
 * @returns {Buffer}
 */
export function httpRequest(method, target, options = {}) {
  const { version = '1.1', body } = options;
  const fields = Array.isArray(options.headers) ? [...options.headers] : Object.entries(options.headers ?? {});
  const has = (name) => fields.some(([n]) => n.toLowerCase() === name);
  if (version === '1.1' && !has('host')) fields.unshift(['Host', 'test']);
  if (body !== undefined && !has('content-length') && !has('transfer-encoding')) {
    fields.push(['Content-Length', String(Buffer.byteLength(body, typeof body === 'string' ? 'latin1' : undefined))]);
  }
  let head = `${method} ${target} HTTP/${version}\r\n`;
  for (const [name, value] of fields) if (value !== null) head += `${name}: ${value}\r\n`;
  const headBytes = Buffer.from(`${head}\r\n`, 'latin1');
  if (body === undefined) return headBytes;
  return Buffer.concat([headBytes, typeof body === 'string' ? Buffer.from(body, 'latin1') : body]);
}
