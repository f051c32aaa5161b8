#!/usr/bin/env node
// Entry point of the `allot` CLI: the compiled src/cli/allot.ts (`npm run build` makes dist/).
import '../dist/cli/allot.js';
