// Preloaded into every service by `BENCH_PROFILE_DIR=<dir> npm run bench`: a CPU profile per process.
// The inspector answers asynchronously and nothing asynchronous runs in an 'exit' listener, so the
// profile is written as soon as SIGTERM arrives (while the service stops, within the stop's grace),
// and process.exit waits for that write.
// BENCH_PROFILE_SERVICES=access,api-gateway limits it to those services (a profile of a long
// discovery refresh grows until the process runs out of memory).
const service = (process.argv[1] ?? '').split('/').slice(-3)[0];
const only = process.env.BENCH_PROFILE_SERVICES;
if (!only || only.split(',').includes(service)) startProfile();

function startProfile() {
  const inspector = require('node:inspector');
  const fs = require('node:fs');
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  let written;
  const write = () =>
    (written ??= new Promise((resolve) => {
      session.post('Profiler.stop', (err, result) => {
        if (!err)
          fs.writeFileSync(
            `${process.env.BENCH_PROFILE_DIR}/${process.pid}-${(process.argv[1] ?? 'node').split('/').slice(-3).join('_')}.cpuprofile`,
            JSON.stringify(result.profile),
          );
        resolve();
      });
    }));
  // And the process's memory every 5 s (rss, heap used and total, external, array buffers in MB), for where an RSS goes.
  const memoryLog = `${process.env.BENCH_PROFILE_DIR}/${process.pid}-${(process.argv[1] ?? 'node').split('/').slice(-3).join('_')}.memory.log`;
  const mb = (n) => (n / 1048576).toFixed(0);
  setInterval(() => {
    const m = process.memoryUsage();
    fs.appendFileSync(
      memoryLog,
      `${new Date().toISOString()} rss ${mb(m.rss)} heapUsed ${mb(m.heapUsed)} heapTotal ${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`,
    );
  }, 5_000).unref();
  process.prependListener('SIGTERM', () => void write());
  const exit = process.exit.bind(process);
  process.exit = (code) => void write().then(() => exit(code));
}
