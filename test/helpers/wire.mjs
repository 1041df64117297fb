// A small raw-socket client for the Fetch and app tests: send exact bytes,
// wait for what comes back, and split it into responses (status, header
// fields as sent, body by its framing, and whether the body was complete).
// Whatever comes back whole is also checked by raw.mjs's strict parser, so
// every test here also asserts well-formed HTTP/1.1 framing.
// Importing this module has no side effect (the test runner may import it).
import net from 'node:net';
import { parseResponses as strictParse } from './raw.mjs';

const DEFAULT_WAIT_MS = 5000;

/** Opens a connection to 127.0.0.1:port. */
export function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new RawConnection(socket));
    });
  });
}

export class RawConnection {
  constructor(socket) {
    this.socket = socket;
    this.data = Buffer.alloc(0);
    this.isClosed = false;
    this.waiters = new Set();
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.check();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.check();
        resolve(this.data);
      }),
    );
  }

  get text() {
    return this.data.toString('latin1');
  }

  send(bytes) {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    return this;
  }

  /** Resolves with the data once `predicate(latin1 text, buffer)` holds; rejects on close or after `ms`. */
  waitFor(predicate, ms = DEFAULT_WAIT_MS) {
    return new Promise((resolve, reject) => {
      const waiter = { predicate, resolve, reject };
      waiter.timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${ms} ms; received so far:\n${this.text}`));
      }, ms);
      this.waiters.add(waiter);
      this.check();
    });
  }

  /** Resolves with everything received once the server has closed the connection. */
  async untilClosed(ms = DEFAULT_WAIT_MS) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not closed after ${ms} ms; received:\n${this.text}`)), ms);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next `count` complete responses (to requests of `method`). */
  async responses(count = 1, method = 'GET') {
    await this.waitFor((_, buffer) => {
      const parsed = parseResponses(buffer, { method, closed: this.isClosed });
      return parsed.filter((r) => r.complete).length >= count || this.isClosed;
    });
    return parseResponses(this.data, { method, closed: this.isClosed });
  }

  check() {
    for (const waiter of this.waiters) {
      let done = false;
      try {
        done = waiter.predicate(this.text, this.data);
      } catch (error) {
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.reject(error);
        continue;
      }
      if (done) {
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(this.data);
      } else if (this.isClosed) {
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`connection closed; received:\n${this.text}`));
      }
    }
  }

  destroy() {
    this.socket.destroy();
  }
}

/** Sends `bytes` on a new connection and returns everything received until the server closes it. */
export async function exchange(port, bytes, ms = DEFAULT_WAIT_MS) {
  const connection = await connect(port);
  connection.send(bytes);
  try {
    return await connection.untilClosed(ms);
  } finally {
    connection.destroy();
  }
}

/**
 * Splits a byte stream into responses. Each: { status, reason, version,
 * fields: [[name, value]] as sent, get(name) (values joined by ', '), all(name),
 * body: Buffer, framing: 'length'|'chunked'|'close'|'none', complete }.
 * `closed`: the connection has ended (a close-delimited body is then complete).
 */
export function parseResponses(buffer, { method = 'GET', closed = false } = {}) {
  const responses = splitResponses(buffer, method, closed);
  // Whole responses must also pass the strict parser (a cut one is what some tests want).
  if (responses.length > 0 && responses.every((r) => r.complete)) {
    const strict = strictParse(buffer, { closed, methods: [method] });
    if (strict.error !== null) throw new Error(`not well-formed HTTP/1.1: ${strict.error}\n${buffer.toString('latin1')}`);
  }
  return responses;
}

function splitResponses(buffer, method, closed) {
  const responses = [];
  let at = 0;
  while (at < buffer.length) {
    const headEnd = buffer.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd < 0) {
      responses.push({ partialHead: buffer.subarray(at).toString('latin1'), complete: false, status: 0, fields: [], body: Buffer.alloc(0) });
      break;
    }
    const lines = buffer.subarray(at, headEnd).toString('latin1').split('\r\n');
    const statusLine = /^HTTP\/(\d\.\d) (\d{3}) ?(.*)$/.exec(lines[0]);
    if (statusLine === null) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
    const fields = lines.slice(1).map((line) => {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`bad header line ${JSON.stringify(line)}`);
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    const all = (name) => fields.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
    const response = {
      version: statusLine[1],
      status: Number(statusLine[2]),
      reason: statusLine[3],
      fields,
      all,
      get: (name) => (all(name).length === 0 ? null : all(name).join(', ')),
      body: Buffer.alloc(0),
      framing: 'none',
      complete: true,
    };
    responses.push(response);
    at = headEnd + 4;
    const status = response.status;
    if (status < 200 || status === 204 || status === 304 || method === 'HEAD') {
      if (status >= 200) method = 'GET'; // only the final response answers a HEAD
      continue;
    }
    const te = response.get('transfer-encoding');
    const cl = response.get('content-length');
    if (te !== null && /chunked\s*$/i.test(te)) {
      response.framing = 'chunked';
      const chunks = [];
      response.complete = false;
      for (;;) {
        const lineEnd = buffer.indexOf('\r\n', at, 'latin1');
        if (lineEnd < 0) break;
        const size = parseInt(buffer.subarray(at, lineEnd).toString('latin1'), 16);
        if (Number.isNaN(size)) throw new Error(`bad chunk size line at ${at}`);
        if (size === 0) {
          const end = buffer.indexOf('\r\n\r\n', lineEnd, 'latin1');
          if (end < 0) break;
          at = end + 4;
          response.complete = true;
          break;
        }
        if (lineEnd + 2 + size + 2 > buffer.length) {
          chunks.push(buffer.subarray(lineEnd + 2, Math.min(buffer.length, lineEnd + 2 + size)));
          at = buffer.length;
          break;
        }
        chunks.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      response.chunks = chunks;
      response.body = Buffer.concat(chunks);
      if (!response.complete) break;
    } else if (cl !== null) {
      response.framing = 'length';
      const length = Number(cl);
      response.body = buffer.subarray(at, Math.min(buffer.length, at + length));
      response.complete = response.body.length === length;
      at += response.body.length;
      if (!response.complete) break;
    } else {
      response.framing = 'close';
      response.body = buffer.subarray(at);
      response.complete = closed;
      break;
    }
  }
  return responses;
}
