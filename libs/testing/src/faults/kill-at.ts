import { subscribe } from 'node:diagnostics_channel';

/**
 * Preloaded (`node --require`) into a service by a fault test (see `killAt`): the process kills
 * itself (SIGKILL, as a crash) the moment the service publishes `{ step: KILL_AT_STEP }` on the
 * diagnostics channel KILL_AT_CHANNEL. Production code only publishes; nothing of this ships in it.
 */
const channelName = process.env.KILL_AT_CHANNEL;
const step = process.env.KILL_AT_STEP;
if (channelName && step) {
  subscribe(channelName, (message) => {
    if ((message as { step?: unknown }).step !== step) return;
    process.stderr.write(`fault test: killed at ${channelName} ${step}\n`);
    process.kill(process.pid, 'SIGKILL');
  });
}
