// When a long-running command (a server) should stop: the io's own signal in tests, else the process's
// first SIGINT or SIGTERM. A second one exits at once, for a shutdown that hangs.
import type { CliIo } from './command.js';

/** 128 + SIGINT, what a shell reports for a process ended by Ctrl-C. */
const FORCED_EXIT_STATUS = 130;

let processStop: AbortController | undefined;

export function stopSignal(io: CliIo): AbortSignal {
  return io.stop ?? processStopSignal();
}

/** Resolves with the reason (e.g. "SIGINT") once the signal is aborted. */
export function untilStopped(signal: AbortSignal): Promise<string> {
  if (signal.aborted) return Promise.resolve(String(signal.reason));
  return new Promise((resolve) => {
    signal.addEventListener('abort', () => resolve(String(signal.reason)), { once: true });
  });
}

/** Listens only once a server asks, so that Ctrl-C still ends a command that reads stdin. */
function processStopSignal(): AbortSignal {
  if (processStop === undefined) {
    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals): void => {
      if (controller.signal.aborted) process.exit(FORCED_EXIT_STATUS);
      controller.abort(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    processStop = controller;
  }
  return processStop.signal;
}
