// Writes the generated documents (`npm run docs` builds first): docs/options.md from the option
// table, and the module graph in docs/architecture.md from the imports of src/. The tests
// test/cli/docs.test.mjs and test/structure/modules.test.mjs fail when a committed document
// differs from what its source generates.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { optionsMarkdown } from '../dist/cli/help.js';
import { ARCHITECTURE_DOC, architectureSection, readModules, withSection } from './module-graph.mjs';

const target = new URL('../docs/options.md', import.meta.url);
mkdirSync(new URL('.', target), { recursive: true });
writeFileSync(target, optionsMarkdown());
console.log(`wrote ${target.pathname}`);

writeFileSync(ARCHITECTURE_DOC, withSection(readFileSync(ARCHITECTURE_DOC, 'utf8'), architectureSection(readModules())));
console.log(`wrote ${ARCHITECTURE_DOC}`);
