import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  caPem: string;
  /** A CA that signed nothing here: a client trusting only it must refuse the server. */
  otherCaPem: string;
  serverCertFile: string;
  serverKeyFile: string;
}

const SAN_NAME = /^[A-Za-z0-9.*:-]+$/;

/**
 * Makes, with the openssl CLI, a CA and a server certificate signed by it whose subject
 * alternative names are exactly `hosts` (IP addresses become IP entries), plus an unrelated CA.
 */
export async function createTestCertificates(dir: string, hosts: string[]): Promise<TestCertificates> {
  if (hosts.length === 0) throw new Error('A server certificate needs at least one host name');
  for (const host of hosts) if (!SAN_NAME.test(host)) throw new Error(`Not a host name or IP address: ${JSON.stringify(host)}`);
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(', ');
  const config = join(dir, 'openssl.cnf');
  await writeFile(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      'CN = unused',
      '[ca_ext]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '[server_ext]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = ${san}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  const file = (name: string) => join(dir, name);
  // EC keys: generated in milliseconds, where RSA takes a noticeable part of a test's start-up.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const makeCa = (name: string, cn: string) =>
    run('openssl', [
      'req',
      '-x509',
      ...newKey,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.crt`),
      '-days',
      '2',
      '-config',
      config,
      '-extensions',
      'ca_ext',
      '-subj',
      `/CN=${cn}`,
    ]);
  await Promise.all([
    makeCa('ca', 'Latchkey Test CA'),
    makeCa('other-ca', 'Latchkey Unrelated Test CA'),
    run('openssl', ['req', '-new', ...newKey, '-keyout', file('server.key'), '-out', file('server.csr'), '-config', config, '-subj', `/CN=${hosts[0]}`]),
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '2',
    '-out',
    file('server.crt'),
    '-extfile',
    config,
    '-extensions',
    'server_ext',
  ]);
  return {
    caPem: await readFile(file('ca.crt'), 'utf8'),
    otherCaPem: await readFile(file('other-ca.crt'), 'utf8'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
  };
}
