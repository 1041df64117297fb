// FastResponse against the platform's Response: one set of assertions, run on
// both classes, so that the light one behaves as the standard one does. Plus
// what only the light one promises: `instanceof` both ways and its light form.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FastResponse, responseParts } from '../../dist/fetch/light/fast-response.js';

const NativeResponse = globalThis.Response;
const bytes = (text) => new TextEncoder().encode(text);

/** The same checks, for either class. */
function behavesAsResponse(Class) {
  test('defaults', () => {
    const r = new Class();
    assert.equal(r.status, 200);
    assert.equal(r.statusText, '');
    assert.equal(r.ok, true);
    assert.equal(r.type, 'default');
    assert.equal(r.url, '');
    assert.equal(r.redirected, false);
    assert.equal(r.body, null);
    assert.equal(r.bodyUsed, false);
    assert.deepEqual([...r.headers], []);
    assert.equal(Object.prototype.toString.call(r), '[object Response]');
  });

  test('bodies, their Content-Type and their bytes', async () => {
    const cases = [
      ['héllo', 'text/plain;charset=UTF-8', 'héllo'],
      [bytes('abc'), null, 'abc'],
      [bytes('abcdef').subarray(2, 4), null, 'cd'],
      [bytes('xyz').buffer, null, 'xyz'],
      [new DataView(bytes('dv').buffer), null, 'dv'],
      [new URLSearchParams('a=1&b=2'), 'application/x-www-form-urlencoded;charset=UTF-8', 'a=1&b=2'],
      [new Blob(['blob'], { type: 'text/x-blob' }), 'text/x-blob', 'blob'],
      [new ReadableStream({ start: (c) => (c.enqueue(bytes('st')), c.enqueue(bytes('ream')), c.close()) }), null, 'stream'],
    ];
    for (const [body, type, text] of cases) {
      const r = new Class(body);
      assert.equal(r.headers.get('content-type'), type, `content-type of ${Object.prototype.toString.call(body)}`);
      assert.equal(await r.text(), text);
      assert.equal(r.bodyUsed, true);
      await assert.rejects(r.text(), TypeError);
    }
  });

  test('the body is copied when the response is made', async () => {
    const source = bytes('before');
    const r = new Class(source);
    source.set(bytes('after!'));
    assert.equal(await r.text(), 'before');
  });

  test('reading: arrayBuffer, bytes, json, blob, formData, the stream', async () => {
    assert.deepEqual(new Uint8Array(await new Class('ab').arrayBuffer()), bytes('ab'));
    assert.deepEqual(await new Class('ab').bytes(), bytes('ab'));
    assert.deepEqual(await new Class('{"a":[1]}').json(), { a: [1] });
    const blob = await new Class('b', { headers: { 'content-type': 'text/y' } }).blob();
    assert.equal(blob.type, 'text/y');
    assert.equal(await blob.text(), 'b');
    const form = await new Class(new URLSearchParams('x=1')).formData();
    assert.equal(form.get('x'), '1');
    const reader = new Class('chunk').body.getReader();
    const { value } = await reader.read();
    assert.equal(new TextDecoder().decode(value), 'chunk');
    assert.equal((await reader.read()).done, true);
  });

  test('init: status, statusText, headers in every form', () => {
    const r = new Class('x', { status: 201, statusText: 'Made', headers: { 'X-A': ' 1 ', 'Content-Type': 'text/z' } });
    assert.equal(r.status, 201);
    assert.equal(r.statusText, 'Made');
    assert.equal(r.headers.get('x-a'), '1');
    assert.equal(r.headers.get('content-type'), 'text/z');
    const pairs = new Class(null, { headers: [['set-cookie', 'a=1'], ['Set-Cookie', 'b=2']] });
    assert.deepEqual(pairs.headers.getSetCookie(), ['a=1', 'b=2']);
    const fromHeaders = new Class(null, { headers: new Headers({ 'x-b': '2' }) });
    assert.equal(fromHeaders.headers.get('X-B'), '2');
    assert.equal(new Class(null, { status: 404 }).ok, false);
    assert.equal(new Class(null, { status: 204 }).status, 204);
  });

  test('bad init is refused as the standard refuses it', () => {
    assert.throws(() => new Class('x', { status: 99 }), RangeError);
    assert.throws(() => new Class('x', { status: 600 }), RangeError);
    assert.throws(() => new Class('x', { statusText: 'a\nb' }), TypeError);
    assert.throws(() => new Class('x', { status: 204 }), TypeError);
    assert.throws(() => new Class('x', { status: 304 }), TypeError);
    assert.throws(() => new Class('x', { headers: { 'bad name': '1' } }), TypeError);
    assert.throws(() => new Class('x', { headers: { x: 'a\r\nb' } }), TypeError);
    assert.throws(() => new Class('x', { headers: { x: 'a\0b' } }), TypeError);
    assert.throws(() => new Class('x', { headers: [['only-a-name']] }), TypeError);
  });

  test('headers can be changed after the response is made', () => {
    const r = new Class('x');
    r.headers.set('x-late', 'yes');
    r.headers.append('set-cookie', 'c=3');
    assert.equal(r.headers.get('x-late'), 'yes');
    assert.deepEqual(r.headers.getSetCookie(), ['c=3']);
  });

  test('clone() gives an independent body', async () => {
    const r = new Class('twice', { status: 202, headers: { 'x-c': '1' } });
    const copy = r.clone();
    assert.equal(await r.text(), 'twice');
    assert.equal(await copy.text(), 'twice');
    assert.equal(copy.status, 202);
    assert.equal(copy.headers.get('x-c'), '1');
  });

  test('static json(), redirect(), error()', async () => {
    const json = Class.json({ message: 'hi' }, { status: 202, headers: { 'x-j': '1' } });
    assert.equal(json.status, 202);
    assert.equal(json.headers.get('content-type'), 'application/json');
    assert.equal(json.headers.get('x-j'), '1');
    assert.deepEqual(await json.json(), { message: 'hi' });
    assert.equal(Class.json(null, { headers: { 'content-type': 'application/x' } }).headers.get('content-type'), 'application/x');
    assert.throws(() => Class.json(undefined), TypeError);
    assert.throws(() => Class.json(1n), TypeError);
    const moved = Class.redirect('http://example.test/next', 301);
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.get('location'), 'http://example.test/next');
    const failed = Class.error();
    assert.equal(failed.type, 'error');
    assert.equal(failed.status, 0);
  });

  test('subclasses work', async () => {
    class Mine extends Class {
      get extra() {
        return 'mine';
      }
    }
    const r = new Mine('sub', { status: 203 });
    assert.equal(r.extra, 'mine');
    assert.equal(r.status, 203);
    assert.equal(await r.text(), 'sub');
    assert.ok(r instanceof NativeResponse);
  });
}

describe('the platform Response', () => behavesAsResponse(NativeResponse));
describe('FastResponse', () => behavesAsResponse(FastResponse));

describe('FastResponse and the platform Response are interchangeable', () => {
  test('instanceof both ways', () => {
    assert.ok(new FastResponse('x') instanceof NativeResponse);
    assert.ok(new NativeResponse('x') instanceof FastResponse);
    assert.ok(new FastResponse('x') instanceof FastResponse);
    assert.ok(!({} instanceof FastResponse));
    assert.ok(!(new Request('http://a.test/') instanceof FastResponse));
    assert.equal(FastResponse.name, 'Response');
  });

  test('the light form: what the server writes without building a Response', () => {
    assert.deepEqual(responseParts(new FastResponse('hi', { status: 201, headers: { 'x-a': '1' } })), {
      status: 201,
      fields: [['x-a', '1'], ['content-type', 'text/plain;charset=UTF-8']],
      body: 'hi',
    });
    assert.equal(responseParts(new NativeResponse('hi')), null);
    assert.equal(responseParts({}), null);
    // Streams and blobs go to the platform's Response at once.
    assert.equal(responseParts(new FastResponse(new Blob(['b']))), null);
    // Anything that reads the body ends the light form.
    const read = new FastResponse('read');
    void read.body;
    assert.equal(responseParts(read), null);
    // Headers changed later are what is written.
    const changed = new FastResponse('c');
    changed.headers.set('x-late', '1');
    assert.deepEqual(responseParts(changed).fields, [['content-type', 'text/plain;charset=UTF-8'], ['x-late', '1']]);
  });
});
