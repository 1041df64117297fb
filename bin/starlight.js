#!/usr/bin/env node
// The starlight command: everything lives in dist/cli/main.js.
import '../dist/cli/main.js';
