import { connectTarget } from '@latchkey/pg-access';
import { startPgCluster } from './pg-cluster';

describe('startPgCluster', () => {
  it('starts a trust cluster without TLS, and stops it for good', async () => {
    const cluster = await startPgCluster({ hba: 'trust' });
    expect(cluster.caPem).toBeNull();
    const { client, tls } = await connectTarget({ ...cluster.connectionParams(), password: 'anything' });
    expect(tls).toBe(false);
    await client.end();
    await expect(cluster.query<{ ssl: string }>('SHOW ssl')).resolves.toEqual([{ ssl: 'off' }]);

    await Promise.all([cluster.stop(), cluster.stop()]);
    await expect(connectTarget(cluster.connectionParams())).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('refuses hostssl rules without TLS', async () => {
    await expect(startPgCluster({ hba: 'hostssl-scram', ssl: false })).rejects.toThrow('hba hostssl-scram needs ssl');
  });
});
