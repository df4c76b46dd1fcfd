#!/usr/bin/env node
// Entry point: TypeScript sources run through tsx's loader, no build step.
import { register } from 'tsx/esm/api';

// `faultline ... | head` closes the pipe early: drop further output instead of crashing, so a run
// still finishes and cleans up.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

register();
const { main } = await import('../harness/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
