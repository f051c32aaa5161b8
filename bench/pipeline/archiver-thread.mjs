// Worker-thread entry of the pipeline bench's archiver (archiver-thread.ts, TypeScript): module
// hooks of the main thread (tsx) do not reach a worker on Node 20, so it loads the file with
// tsx's own API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./archiver-thread.ts', import.meta.url);
