// Preloaded into every service by `BENCH_PROFILE_DIR=<dir> npm run bench`: a CPU profile per process, written at exit.
// The inspector answers asynchronously, and nothing asynchronous runs in an 'exit' listener: process.exit
// (how a service ends on SIGTERM) first stops the profiler and writes the profile, then exits.
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 500 });
session.post('Profiler.start');
const exit = process.exit.bind(process);
let stopping = false;
process.exit = (code) => {
  if (stopping) return exit(code);
  stopping = true;
  session.post('Profiler.stop', (err, result) => {
    if (!err) fs.writeFileSync(`${process.env.BENCH_PROFILE_DIR}/${process.pid}-${(process.argv[1] ?? 'node').split('/').slice(-3).join('_')}.cpuprofile`, JSON.stringify(result.profile));
    exit(code);
  });
};
