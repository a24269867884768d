#!/usr/bin/env node
import { EXIT, main } from './main.js';

// SIGINT (Ctrl-C), SIGTERM (kill, systemd, Kubernetes, job queues) and SIGHUP (a closed terminal)
// all stop a run the same way: at the next batch boundary after writing a checkpoint, then exit
// with 128 + the signal's number (130, 143, 129); `--resume` continues. A second signal quits at
// once: checkpoints are written atomically, so the last one written is intact and `--resume`
// continues from it.
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
const controller = new AbortController();
let stoppedBy: string | undefined;
for (const name of Object.keys(SIGNAL_EXIT) as NodeJS.Signals[]) {
  process.on(name, () => {
    if (stoppedBy !== undefined) {
      process.stderr.write(
        `\nmoprune: ${name} again; quitting now without a new checkpoint (the last checkpoint written is intact: --resume continues from it)\n`,
      );
      process.exit(SIGNAL_EXIT[name]);
    }
    stoppedBy = name;
    process.stderr.write(
      `\nmoprune: ${name}; stopping after the current step and writing a checkpoint (${name === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again quits at once)\n`,
    );
    controller.abort();
  });
}

main(process.argv.slice(2), { signal: controller.signal }).then(
  (code) => {
    // An interrupted run exits with the number of the signal that stopped it.
    process.exitCode = code === EXIT.INTERRUPTED && stoppedBy !== undefined ? SIGNAL_EXIT[stoppedBy]! : code;
  },
  (e: unknown) => {
    process.stderr.write(`moprune: error INTERNAL: ${String(e)}\n`);
    process.exitCode = EXIT.FAILURE;
  },
);
