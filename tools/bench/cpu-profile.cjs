// Preloaded into every service by `BENCH_PROFILE_DIR=<dir> npm run bench`: a CPU profile per process, written at exit.
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 500 });
session.post('Profiler.start');
process.on('exit', () => {
  session.post('Profiler.stop', (err, { profile }) => {
    if (!err) fs.writeFileSync(`${process.env.BENCH_PROFILE_DIR}/${process.pid}-${process.argv[1].split('/').slice(-3).join('_')}.cpuprofile`, JSON.stringify(profile));
  });
});
