// WebSocket pieces for the tests that speak the protocol byte by byte (a
// handshake sent with frames behind it, a frame the server must refuse): a
// handshake request, client frames as RFC 6455 §5.2 lays them out, and the
// server's frames read back. Everything else uses the real `ws` client.
// Importing this module has no side effect.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

export { WebSocket };

/** A WebSocket handshake request for `path` (latin1 text, head only). */
export function handshake(path, { host = '127.0.0.1', extra = '' } = {}) {
  const key = randomBytes(16).toString('base64');
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n${extra}\r\n`;
}

/**
 * A client frame: `opcode` (1 text, 2 binary, 8 close...), `payload` (string: UTF-8),
 * masked unless `masked` is false (which a server must refuse), FIN unless `fin` is false.
 */
export function clientFrame(opcode, payload, { masked = true, fin = true } = {}) {
  const data = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const length = data.length;
  const lengthBytes = length < 126 ? Buffer.from([length]) : length < 65536 ? Buffer.from([126, length >> 8, length & 0xff]) : Buffer.concat([Buffer.from([127]), bigEndian64(length)]);
  lengthBytes[0] |= masked ? 0x80 : 0;
  const first = Buffer.from([(fin ? 0x80 : 0) | opcode]);
  if (!masked) return Buffer.concat([first, lengthBytes, data]);
  const mask = randomBytes(4);
  const body = Buffer.from(data.map((byte, i) => byte ^ mask[i % 4]));
  return Buffer.concat([first, lengthBytes, mask, body]);
}

function bigEndian64(n) {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(n));
  return bytes;
}

/**
 * The server's frames (unmasked) in `bytes`, whole ones only:
 * [{ fin, opcode, payload }], and for a close frame `code` and `reason`.
 */
export function serverFrames(bytes) {
  const frames = [];
  let p = 0;
  while (p + 2 <= bytes.length) {
    let length = bytes[p + 1] & 0x7f;
    let start = p + 2;
    if (length === 126) {
      if (start + 2 > bytes.length) break;
      length = bytes.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (start + 8 > bytes.length) break;
      length = Number(bytes.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > bytes.length) break;
    const frame = { fin: (bytes[p] & 0x80) !== 0, opcode: bytes[p] & 0x0f, payload: bytes.subarray(start, start + length) };
    if (frame.opcode === 8 && length >= 2) Object.assign(frame, { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString() });
    frames.push(frame);
    p = start + length;
  }
  return frames;
}

/** The bytes after the 101 response's head in `data`; null until the head is whole. */
export function afterHead(data) {
  const end = data.indexOf('\r\n\r\n');
  return end === -1 ? null : data.subarray(end + 4);
}

/** Opens a `ws` client to `url`; resolves it once open, rejects on an error before. */
export function openWebSocket(url, options = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => {
      ws.off('error', reject);
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

/** Sends `data` and resolves the next message ({ data: Buffer, isBinary }). */
export function echo(ws, data, options) {
  return new Promise((resolve, reject) => {
    const early = (code) => reject(new Error(`closed (${code}) before the echo`));
    ws.once('message', (message, isBinary) => {
      ws.off('close', early);
      resolve({ data: message, isBinary });
    });
    ws.once('close', early);
    ws.send(data, options);
  });
}

/** Resolves { code, reason } when `ws` closes. */
export function closed(ws) {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}
