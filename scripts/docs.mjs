// Writes docs/options.md from the option table (`npm run docs` builds first). The test
// test/cli/docs.test.mjs fails when the committed file differs from what the table generates.
import { mkdirSync, writeFileSync } from 'node:fs';
import { optionsMarkdown } from '../dist/cli/help.js';

const target = new URL('../docs/options.md', import.meta.url);
mkdirSync(new URL('.', target), { recursive: true });
writeFileSync(target, optionsMarkdown());
console.log(`wrote ${target.pathname}`);
