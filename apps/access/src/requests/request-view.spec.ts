import { execFileSync } from 'node:child_process';
import { psqlCommand } from './request-view';

describe('psqlCommand', () => {
  it('is a plain command for plain names', () => {
    expect(psqlCommand({ host: 'db.example.com', port: 5432, database: 'app', username: 'lk_ana_1a2b', sslmode: 'require' })).toBe(
      "psql 'host=db.example.com port=5432 dbname=app user=lk_ana_1a2b sslmode=require'",
    );
  });

  it('survives hostile names through the shell: the argument psql receives is the exact conninfo', () => {
    const command = psqlCommand({ host: 'h', port: 5432, database: `we'ird "db"; rm -rf / $(x) \\`, username: 'lk_o\'brien', sslmode: 'verify-full' });
    // Let a real shell parse the command with `printf` standing in for psql.
    const argument = execFileSync('sh', ['-c', command.replace(/^psql /, "printf '%s' ")]).toString();
    expect(argument).toBe(`host=h port=5432 dbname='we\\'ird "db"; rm -rf / $(x) \\\\' user='lk_o\\'brien' sslmode=verify-full`);
  });
});
