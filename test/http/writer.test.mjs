// The response head the writer builds: a field that could split the response
// (CR, LF or NUL in a value, a name that is not a token) or that latin1 cannot
// carry is refused before anything is written; the server's framing fields
// replace the app's own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Framing, InvalidHeaderError, fieldBlock, responseHead } from '../../dist/http/writer.js';

const head = (fields, extra = {}) =>
  responseHead({ status: 200, block: fieldBlock(fields), framing: Framing.LENGTH, length: 2, close: false, keepAliveHeader: false, serverSoftware: 'x', ...extra });

test('a value with CR, LF, NUL or a character beyond one byte, or a name that is not a token, is refused', () => {
  for (const value of ['a\r\nSet-Cookie: evil=1', 'a\nb', 'a\rb', 'a\0b', 'caf\u00e9\u010d']) {
    assert.throws(() => head([['x-inject', value]]), InvalidHeaderError, JSON.stringify(value));
  }
  for (const name of ['bad name', 'x:y', '', 'x\r\ny', 'caf\u00e9']) {
    assert.throws(() => head([[name, 'v']]), InvalidHeaderError, JSON.stringify(name));
  }
});

test("the app's framing fields give way to the server's", () => {
  const text = head([['Content-Length', '999'], ['Transfer-Encoding', 'chunked'], ['Connection', 'keep-alive'], ['X-Ok', '1']]);
  assert.equal(text, `HTTP/1.1 200 OK\r\nX-Ok: 1\r\nDate: ${/Date: ([^\r]+)/.exec(text)[1]}\r\nServer: x\r\nContent-Length: 2\r\n\r\n`);
  assert.equal(fieldBlock([['connection', 'upgrade, close']]).closes, true);
  assert.equal(fieldBlock([['connection', 'keep-alive']]).closes, false);
});
