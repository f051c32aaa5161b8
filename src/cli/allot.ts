// Process entry of the `allot` CLI (bin/allot.js runs the compiled copy).
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
