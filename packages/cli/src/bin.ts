#!/usr/bin/env node
import { EXIT, main } from './main.js';

// First Ctrl-C: abort the run, which stops at the next batch boundary after a
// checkpoint (exit 130, `--resume` continues). Second Ctrl-C: quit at once.
const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts += 1;
  if (interrupts > 1) process.exit(EXIT.INTERRUPTED);
  process.stderr.write(
    '\nmoprune: interrupted; stopping after the current step and writing a checkpoint (Ctrl-C again quits at once)\n',
  );
  controller.abort();
});

main(process.argv.slice(2), { signal: controller.signal }).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`moprune: error INTERNAL: ${String(e)}\n`);
    process.exitCode = EXIT.FAILURE;
  },
);
