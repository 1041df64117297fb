// A server's list of open connections (src/http/connection-list.ts): each
// item knows its index, a removal moves the last item into the gap, and a
// walk visits every item that stays, whatever the walk removes.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConnectionList } from '../../dist/http/connection-list.js';

const items = (n) => Array.from({ length: n }, (_, id) => ({ id, listIndex: -1 }));
const visited = (list) => {
  const ids = [];
  list.forEach((item) => ids.push(item.id));
  return ids.sort((a, b) => a - b);
};

test('added items are counted and visited; a removed one is neither, and its index is -1', () => {
  const list = new ConnectionList();
  const [a, b, c, d] = items(4);
  for (const item of [a, b, c, d]) list.add(item);
  assert.equal(list.size, 4);
  list.delete(b);
  assert.equal(b.listIndex, -1);
  assert.equal(list.size, 3);
  assert.deepEqual(visited(list), [0, 2, 3]);
  assert.equal(d.listIndex, 1, 'the last item took the removed one’s place');
  list.delete(b);
  assert.equal(list.size, 3, 'removing an item not in the list changes nothing');
  list.delete(d);
  list.delete(a);
  list.delete(c);
  assert.equal(list.size, 0);
  assert.deepEqual(visited(list), []);
});

test('a walk that removes the item it visits, or others, visits every item that stays once at least', () => {
  for (const removeOthers of [false, true]) {
    const list = new ConnectionList();
    const all = items(10);
    for (const item of all) list.add(item);
    const seen = new Set();
    list.forEach((item) => {
      seen.add(item.id);
      if (item.id % 2 === 0) list.delete(item);
      if (removeOthers && item.id === 7) list.delete(all[1]);
    });
    const stayed = all.filter((item) => item.id % 2 === 1 && !(removeOthers && item.id === 1));
    for (const item of stayed) assert.ok(seen.has(item.id), `item ${item.id} visited (${removeOthers ? 'others removed too' : 'itself removed'})`);
    assert.deepEqual(visited(list), stayed.map((item) => item.id));
    assert.equal(list.size, stayed.length);
  }
});
