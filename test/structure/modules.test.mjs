// The shape of src/: imports point one way (down the layers of scripts/module-graph.mjs), no
// cycle between files or folders, and docs/architecture.md draws the graph the imports make.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  ARCHITECTURE_DOC, LAYERS, architectureSection, cycles, folderEdges, layeringViolations, readModules, withSection,
} from '../../scripts/module-graph.mjs';

const modules = readModules();

describe('the module graph of src/', () => {
  test('has no cycle between files', () => {
    const graph = new Map(modules.map(({ file, imports }) => [file, imports]));
    assert.deepEqual(cycles(graph), []);
  });

  test('has no cycle between folders', () => {
    assert.deepEqual(cycles(folderEdges(modules)), []);
  });

  test('imports only from the layers below (or the same folder)', () => {
    assert.deepEqual(layeringViolations(modules), []);
  });

  test('every folder has a place in the layers', () => {
    const folders = new Set(modules.map((module) => module.folder));
    assert.deepEqual([...folders].sort(), LAYERS.map(({ folder }) => folder).filter((folder) => folders.has(folder)).sort());
    assert.equal(folders.size, LAYERS.length, 'a layer with no module left in it');
  });

  test('every module has a header comment', () => {
    assert.deepEqual(modules.filter((module) => module.about === '').map((module) => module.file), []);
  });

  test('docs/architecture.md is generated from these imports (npm run docs)', () => {
    const committed = readFileSync(ARCHITECTURE_DOC, 'utf8');
    assert.equal(committed, withSection(committed, architectureSection(modules)));
  });
});

describe('the cycle finder', () => {
  // Checked on graphs made here, so that a finder that never finds anything cannot pass the tests above.
  test('finds a cycle of two, of three and a self-contained one beside acyclic parts', () => {
    const graph = new Map([
      ['a', ['b']], ['b', ['a', 'c']], ['c', []],
      ['x', ['y']], ['y', ['z']], ['z', ['x']],
    ]);
    assert.deepEqual(cycles(graph).sort(), [['a', 'b'], ['x', 'y', 'z']]);
    assert.deepEqual(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', []]])), []);
  });
});
