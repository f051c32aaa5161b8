// `npm run sim -- --scenario scenarios/basic.json`: the `allot sim` command run from source with tsx.
import { runSimCommand } from '../src/cli/sim-command.js';

process.exitCode = await runSimCommand(process.argv.slice(2));
