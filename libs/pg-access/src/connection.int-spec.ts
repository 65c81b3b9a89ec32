import { createServer, type Server, type Socket } from 'node:net';
import type { SslMode } from '@latchkey/contracts';
import { freePort, type PgCluster, startPgCluster, STARTUP_TIMEOUT_MS } from '@latchkey/testing';
import { connectTarget, getServerInfo, type TargetConnectionParams } from './connection';
import { TargetConnectionError, type TargetConnectionErrorKind } from './connection-error';
import { TargetPool } from './target-pool';

// Three servers: TLS offered (certificate for db.latchkey.test and localhost, not 127.0.0.1),
// no TLS at all, and TLS demanded by pg_hba.conf (hostssl only).
let tlsOn: PgCluster;
let tlsOff: PgCluster;
let tlsOnly: PgCluster;

beforeAll(async () => {
  [tlsOn, tlsOff, tlsOnly] = await Promise.all([
    startPgCluster({ tls: { serverCertHosts: ['db.latchkey.test', 'localhost'] }, hba: 'scram' }),
    startPgCluster({ ssl: false, hba: 'scram' }),
    startPgCluster({ tls: { serverCertHosts: ['localhost'] }, hba: 'hostssl-scram' }),
  ]);
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([tlsOn, tlsOff, tlsOnly].map((c) => c?.stop()));
});

function params(cluster: PgCluster, sslmode: SslMode, extra: Partial<TargetConnectionParams> = {}): TargetConnectionParams {
  return { ...cluster.connectionParams(), sslmode, ...extra };
}

/** Connects, and asks the server itself whether the session is encrypted. */
async function connectAndAsk(p: TargetConnectionParams): Promise<{ tls: boolean; serverSaysSsl: boolean }> {
  const { client, tls } = await connectTarget(p);
  try {
    const { rows } = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return { tls, serverSaysSsl: rows[0]!.ssl };
  } finally {
    await client.end();
  }
}

async function failure(p: TargetConnectionParams): Promise<TargetConnectionError> {
  const error = await connectTarget(p).then(
    async ({ client }) => {
      await client.end();
      throw new Error(`connected with sslmode=${p.sslmode}, expected a failure`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TargetConnectionError);
  return error as TargetConnectionError;
}

async function expectFailure(p: TargetConnectionParams, kind: TargetConnectionErrorKind): Promise<TargetConnectionError> {
  const error = await failure(p);
  expect(error.kind).toBe(kind);
  expect(error.message).toContain(`sslmode=${p.sslmode}`);
  expect(error.message).not.toContain(p.password);
  return error;
}

const encrypted = { tls: true, serverSaysSsl: true };
const plain = { tls: false, serverSaysSsl: false };

describe('verify-full', () => {
  it('refuses a certificate issued for another host name', async () => {
    const error = await expectFailure(params(tlsOn, 'verify-full', { sslRootCert: tlsOn.caPem }), 'hostname_mismatch');
    expect(error.message).toContain('not issued for "127.0.0.1"');
    expect(error.message).toContain('DNS:localhost');
    expect(error.message).toContain('verify-ca');
  });

  it('accepts the certificate when connecting by a name it carries', async () => {
    await expect(connectAndAsk(params(tlsOn, 'verify-full', { hostname: 'localhost', sslRootCert: tlsOn.caPem }))).resolves.toEqual(encrypted);
  });

  it('refuses a certificate signed by another CA', async () => {
    await expectFailure(params(tlsOn, 'verify-full', { hostname: 'localhost', sslRootCert: tlsOn.otherCaPem }), 'certificate');
  });

  it('fails clearly on a server without TLS', async () => {
    const error = await expectFailure(params(tlsOff, 'verify-full', { hostname: 'localhost', sslRootCert: tlsOn.caPem }), 'tls_unsupported');
    expect(error.message).toContain('does not support TLS');
  });
});

describe('verify-ca', () => {
  it('accepts the right chain whatever the host name', async () => {
    await expect(connectAndAsk(params(tlsOn, 'verify-ca', { sslRootCert: tlsOn.caPem }))).resolves.toEqual(encrypted);
  });

  it('refuses a certificate signed by another CA', async () => {
    const error = await expectFailure(params(tlsOn, 'verify-ca', { sslRootCert: tlsOn.otherCaPem }), 'certificate');
    expect(error.message).toContain('could not be verified');
  });

  it('refuses a private CA when only the default CA store is trusted', async () => {
    await expectFailure(params(tlsOn, 'verify-ca'), 'certificate');
  });

  it('fails clearly on a server without TLS', async () => {
    await expectFailure(params(tlsOff, 'verify-ca', { sslRootCert: tlsOn.caPem }), 'tls_unsupported');
  });
});

describe('require', () => {
  it('encrypts without a CA and without checking the certificate', async () => {
    await expect(connectAndAsk(params(tlsOn, 'require'))).resolves.toEqual(encrypted);
    await expect(connectAndAsk(params(tlsOnly, 'require'))).resolves.toEqual(encrypted);
  });

  it('verifies the chain when a CA is given, as libpq does', async () => {
    await expect(connectAndAsk(params(tlsOn, 'require', { sslRootCert: tlsOn.caPem }))).resolves.toEqual(encrypted);
    await expectFailure(params(tlsOn, 'require', { sslRootCert: tlsOn.otherCaPem }), 'certificate');
  });

  it('fails clearly on a server without TLS', async () => {
    const error = await expectFailure(params(tlsOff, 'require'), 'tls_unsupported');
    expect(error.message).toContain('Fix: enable ssl on the server, or choose sslmode=prefer');
  });
});

describe('prefer', () => {
  it('uses TLS when the server offers it', async () => {
    await expect(connectAndAsk(params(tlsOn, 'prefer'))).resolves.toEqual(encrypted);
    await expect(connectAndAsk(params(tlsOnly, 'prefer'))).resolves.toEqual(encrypted);
  });

  it('falls back to plain when the server has no TLS', async () => {
    await expect(connectAndAsk(params(tlsOff, 'prefer'))).resolves.toEqual(plain);
  });
});

describe('allow', () => {
  it('uses plain when the server accepts it', async () => {
    await expect(connectAndAsk(params(tlsOn, 'allow'))).resolves.toEqual(plain);
    await expect(connectAndAsk(params(tlsOff, 'allow'))).resolves.toEqual(plain);
  });

  it('upgrades to TLS when the server demands it', async () => {
    await expect(connectAndAsk(params(tlsOnly, 'allow'))).resolves.toEqual(encrypted);
  });
});

describe('disable', () => {
  it('never uses TLS, even when the server offers it', async () => {
    await expect(connectAndAsk(params(tlsOn, 'disable'))).resolves.toEqual(plain);
    await expect(connectAndAsk(params(tlsOff, 'disable'))).resolves.toEqual(plain);
  });

  it('fails on a server that demands TLS, saying which sslmode to choose', async () => {
    const error = await expectFailure(params(tlsOnly, 'disable'), 'tls_required');
    expect(error.message).toContain('accepts only TLS');
    expect(error.hint).toBe('choose sslmode=require, verify-ca or verify-full');
  });
});

describe('errors', () => {
  const wrongPassword = 'Wr0ng-s3cret-\'";pässwörd';

  it.each(['prefer', 'allow', 'require', 'disable'] as const)('reports a wrong password as auth (sslmode=%s) without the password', async (sslmode) => {
    const cluster = sslmode === 'disable' ? tlsOn : tlsOnly;
    const error = await expectFailure(params(cluster, sslmode, { password: wrongPassword }), 'auth');
    expect(error.code).toBe('28P01');
    // The username is the secret's too: the server's "for user ..." is redacted.
    expect(error.message).toContain('password authentication failed for user "[redacted]"');
    for (const text of [error.message, error.hint, String(error), JSON.stringify(error), error.stack ?? '']) {
      expect(text).not.toContain(wrongPassword);
      expect(text).not.toContain('"postgres"');
    }
  });

  it('redacts the password wherever the server echoes it', async () => {
    const error = await expectFailure(params(tlsOn, 'require', { username: 'same-as-password', password: 'same-as-password' }), 'auth');
    expect(error.message).toContain('password authentication failed for user "[redacted]"');
  });

  it('reports a missing database', async () => {
    await expectFailure(params(tlsOn, 'prefer', { dbname: 'no_such_db' }), 'database_not_found');
  });

  it('reports a closed port as unreachable, quickly and without a retry', async () => {
    const started = Date.now();
    const error = await expectFailure(params(tlsOn, 'prefer', { port: await freePort() }), 'unreachable');
    expect(error.code).toBe('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  describe('with a server that accepts TCP and never answers', () => {
    let server: Server;
    const sockets = new Set<Socket>();
    let port: number;

    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        // Read and drop what the client sends, so that its closing is seen.
        socket.resume();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });

    afterAll(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => server.close(resolve));
    });

    it('times out within the budget, across all attempts', async () => {
      const started = Date.now();
      const error = await expectFailure(params(tlsOn, 'prefer', { port, connectTimeoutMs: 300 }), 'timeout');
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(error.message).toContain('no answer within 300 ms');
      // The failed attempt's socket is closed, not left open on the server side.
      for (let waited = 0; sockets.size > 0 && waited < 1_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(sockets.size).toBe(0);
    });
  });
});

describe('a rotation in flight', () => {
  const oldPassword = 'old-Rotated-away';
  const newPassword = 'new-Staged-by-rotation';
  beforeAll(async () => {
    await tlsOff.query(`CREATE ROLE rotating LOGIN PASSWORD '${newPassword}'`);
  });

  it('logs in with the staged password when the server refuses the current one', async () => {
    const { client, usedPending } = await connectTarget(
      params(tlsOff, 'prefer', { username: 'rotating', password: oldPassword, pendingPassword: newPassword }),
    );
    try {
      expect(usedPending).toBe(true);
      expect((await client.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u).toBe('rotating');
    } finally {
      await client.end();
    }
  });

  it('prefers the current password, and names neither when both are refused', async () => {
    const { client, usedPending } = await connectTarget(
      params(tlsOff, 'prefer', { username: 'rotating', password: newPassword, pendingPassword: 'never-used' }),
    );
    await client.end();
    expect(usedPending).toBeUndefined();
    const error = await expectFailure(params(tlsOff, 'prefer', { username: 'rotating', password: oldPassword, pendingPassword: 'also-Wrong' }), 'auth');
    expect(error.code).toBe('28P01');
    expect(error.message).not.toContain('also-Wrong');
  });
});

describe('getServerInfo', () => {
  it('describes the server and the role', async () => {
    const { client } = await connectTarget(params(tlsOn, 'require'));
    try {
      const info = await getServerInfo(client);
      expect(info).toMatchObject({ currentUser: 'postgres', superuser: true, createRole: true, majorVersion: 15 });
      expect(info.versionNum).toBeGreaterThanOrEqual(150_000);
      expect(info.version).toMatch(/^15\./);
    } finally {
      await client.end();
    }
  });
});

describe('errors of a session', () => {
  it("come out of every query without the secret's username or password, SQLSTATE kept", async () => {
    const secret = 'S3ssion-secret-pw';
    const admin = await connectTarget(params(tlsOff, 'prefer'));
    await admin.client.query(`DROP ROLE IF EXISTS "svc-user"; CREATE ROLE "svc-user" LOGIN PASSWORD '${secret}'`);
    await admin.client.end();
    const { client } = await connectTarget(params(tlsOff, 'prefer', { username: 'svc-user', password: secret }));
    try {
      const error = await client
        .query(
          `DO $$BEGIN RAISE EXCEPTION 'role "%" cannot, password %', current_user, '${secret}' USING ERRCODE = '42501', DETAIL = format('detail for "%s"', current_user); END$$`,
        )
        .then(
          () => undefined,
          (e: unknown) => e as Error & { code?: string; detail?: string },
        );
      expect(error).toMatchObject({ code: '42501', message: 'role "[redacted]" cannot, password [redacted]' });
      for (const text of [error!.message, error!.stack ?? '', error!.detail ?? '', JSON.stringify(error)]) {
        expect(text).not.toContain('svc-user');
        expect(text).not.toContain(secret);
      }
    } finally {
      await client.end();
    }
    // Work run on a pooled session (grants, revocations) may raise its own errors naming the user: redacted too.
    const pool = new TargetPool(4, 1000);
    try {
      const raised = await pool
        .with(params(tlsOff, 'prefer', { username: 'svc-user', password: secret }), async () => {
          throw new Error(`The connector "svc-user" may not do this (password ${secret})`);
        })
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      expect(raised?.message).toBe('The connector "[redacted]" may not do this (password [redacted])');
    } finally {
      await pool.end();
    }
  });
});
