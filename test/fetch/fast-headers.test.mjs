// FastHeaders against the platform's Headers: one set of assertions, run on
// both classes, so that the light one behaves as the standard one does; then
// `instanceof` both ways.
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, test } from 'node:test';
import { FastHeaders } from '../../dist/fetch/light/fast-headers.js';

const NativeHeaders = globalThis.Headers;

function behavesAsHeaders(Class) {
  test('init in every form; names lower-cased, values trimmed', () => {
    assert.deepEqual([...new Class()], []);
    assert.deepEqual([...new Class(undefined)], []);
    assert.deepEqual([...new Class({ B: ' 1 ', a: '2' })], [['a', '2'], ['b', '1']]);
    assert.deepEqual([...new Class([['X-A', 'one'], ['x-a', 'two']])], [['x-a', 'one, two']]);
    assert.deepEqual([...new Class(new Class({ q: '1' }))], [['q', '1']]);
    assert.deepEqual([...new Class(new NativeHeaders({ n: '1' }))], [['n', '1']]);
    assert.deepEqual([...new Class(new Map([['m', 'v']]))], [['m', 'v']]);
  });

  test('iteration is sorted and combined; Set-Cookie stays apart', () => {
    const h = new Class([['B', '1'], ['a', '2'], ['b', '3'], ['Set-Cookie', 'x=1'], ['set-cookie', 'y=2'], ['C', '\t sp ']]);
    const all = [['a', '2'], ['b', '1, 3'], ['c', 'sp'], ['set-cookie', 'x=1'], ['set-cookie', 'y=2']];
    assert.deepEqual([...h], all);
    assert.deepEqual([...h.entries()], all);
    assert.deepEqual([...h.keys()], all.map(([k]) => k));
    assert.deepEqual([...h.values()], all.map(([, v]) => v));
    const seen = [];
    h.forEach(function (value, name, object) {
      seen.push([name, value, object === h, this]);
    }, 'self');
    assert.deepEqual(seen, all.map(([k, v]) => [k, v, true, 'self']));
    const iterator = h.entries();
    assert.equal(Object.prototype.toString.call(iterator), '[object Headers Iterator]');
    assert.equal(iterator[Symbol.iterator](), iterator);
  });

  test('get, has, getSetCookie', () => {
    const h = new Class([['B', '1'], ['b', '3'], ['Set-Cookie', 'x=1'], ['set-cookie', 'y=2']]);
    assert.equal(h.get('B'), '1, 3');
    assert.equal(h.get('set-cookie'), 'x=1, y=2');
    assert.equal(h.get('none'), null);
    assert.equal(h.has('SET-COOKIE'), true);
    assert.equal(h.has('none'), false);
    assert.deepEqual(h.getSetCookie(), ['x=1', 'y=2']);
    assert.deepEqual(new Class().getSetCookie(), []);
  });

  test('set, append, delete', () => {
    const h = new Class([['a', '1'], ['b', '2'], ['a', '3']]);
    h.set('A', 'z');
    assert.deepEqual([...h], [['a', 'z'], ['b', '2']]);
    h.append('c', '4');
    h.append('C', '5');
    assert.equal(h.get('c'), '4, 5');
    h.delete('B');
    h.delete('nothing');
    assert.deepEqual([...h], [['a', 'z'], ['c', '4, 5']]);
    h.set('new', ' v ');
    assert.equal(h.get('new'), 'v');
  });

  test('bad names and values are refused', () => {
    const h = new Class();
    for (const bad of ['bad name', '', 'x:y', 'é']) {
      assert.throws(() => h.append(bad, 'v'), TypeError);
      assert.throws(() => h.set(bad, 'v'), TypeError);
      assert.throws(() => h.get(bad), TypeError);
      assert.throws(() => h.has(bad), TypeError);
      assert.throws(() => h.delete(bad), TypeError);
    }
    for (const bad of ['a\nb', 'a\rb', 'a\0b', 'ā']) assert.throws(() => h.append('x', bad), TypeError);
    assert.throws(() => new Class({ a: 'x\ny' }), TypeError);
    assert.throws(() => new Class([['a']]), TypeError);
    assert.throws(() => new Class([['a', 'b', 'c']]), TypeError);
    assert.throws(() => new Class(5), TypeError);
    assert.throws(() => Class(), TypeError);
  });

  test('as the headers of a Request and a Response', async () => {
    const h = new Class({ 'x-a': '1' });
    const request = new Request('http://example.test/', { headers: h });
    assert.equal(request.headers.get('x-a'), '1');
    const response = new Response('body', { headers: h });
    assert.equal(response.headers.get('x-a'), '1');
    assert.equal(await response.text(), 'body');
  });

  test('its tag and how it prints', () => {
    const h = new Class({ a: '1' });
    assert.equal(Object.prototype.toString.call(h), '[object Headers]');
    assert.match(inspect(h), /Headers.*a: '1'/s);
    assert.equal(Class.name, 'Headers');
  });
}

describe('the platform Headers', () => behavesAsHeaders(NativeHeaders));
describe('FastHeaders', () => behavesAsHeaders(FastHeaders));

test('FastHeaders and the platform Headers are interchangeable: instanceof both ways', () => {
  assert.ok(new FastHeaders() instanceof NativeHeaders);
  assert.ok(new NativeHeaders() instanceof FastHeaders);
  assert.ok(!({} instanceof FastHeaders));
});
