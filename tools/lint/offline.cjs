// Preloaded (`node --require`) into a lint tool that must work offline: any attempt to reach the
// network (a DNS lookup, a TCP or TLS connection, fetch) fails at once and is reported on stderr as
// `network attempt: ...`, so a test can prove the tool tried nothing.
const dns = require('node:dns');
const net = require('node:net');

const refuse = (what) => {
  process.stderr.write(`network attempt: ${what}\n`);
  return new Error(`offline: ${what}`);
};
for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6']) {
  dns[name] = (host, ...rest) => {
    const callback = rest.find((a) => typeof a === 'function');
    const error = refuse(`dns ${name} ${host}`);
    if (callback) process.nextTick(callback, error);
  };
}
dns.promises.lookup = async (host) => {
  throw refuse(`dns lookup ${host}`);
};
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const target = typeof args[0] === 'object' && args[0] !== null ? args[0] : { port: args[0], host: args[1] };
  // Local IPC (a path) is not the network.
  if (target.path !== undefined || typeof args[0] === 'string') return connect.apply(this, args);
  const error = refuse(`connect ${target.host ?? 'localhost'}:${target.port}`);
  process.nextTick(() => this.destroy(error));
  return this;
};
globalThis.fetch = async (input) => {
  throw refuse(`fetch ${typeof input === 'string' ? input : (input.url ?? input.href)}`);
};
