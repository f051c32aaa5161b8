#!/usr/bin/env node
// Entry point of the `allot` CLI; runs the compiled code in dist/ (`npm run build`).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
