#!/usr/bin/env node
// The starlight command: everything lives in dist/cli/main.js, loaded once Node's compile cache is on.
import { useCompileCache } from '../dist/config/compile-cache.js';

useCompileCache();
await import('../dist/cli/main.js');
