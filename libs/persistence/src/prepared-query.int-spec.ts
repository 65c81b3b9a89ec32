import { DataSource } from 'typeorm';
import { SHARED_DATABASE_URL } from '@latchkey/testing';
import { runPrepared } from './prepared-query';

// One pooled connection: every call below runs on the same session, so what it prepared is visible to the next.
let dataSource: DataSource;

const SQUARES = { name: 'latchkey_test_squares', text: 'SELECT n, n * n AS square FROM generate_series(1, $1::int) AS n ORDER BY n' };
const PREPARED = {
  name: 'latchkey_test_prepared',
  text: 'SELECT name, statement, generic_plans + custom_plans AS plans FROM pg_prepared_statements WHERE name = $1',
};

beforeAll(async () => {
  dataSource = new DataSource({ type: 'postgres', url: SHARED_DATABASE_URL, poolSize: 1 });
  await dataSource.initialize();
});

afterAll(async () => {
  await dataSource?.destroy();
});

describe('runPrepared', () => {
  it("answers the statement's rows, and the pooled session keeps it prepared under its name for the next calls", async () => {
    expect(await runPrepared(dataSource, SQUARES, [3])).toEqual([
      { n: 1, square: 1 },
      { n: 2, square: 4 },
      { n: 3, square: 9 },
    ]);
    expect(await runPrepared(dataSource, SQUARES, [2])).toEqual([
      { n: 1, square: 1 },
      { n: 2, square: 4 },
    ]);
    const [prepared] = await runPrepared(dataSource, PREPARED, [SQUARES.name]);
    // Parsed once, run (and planned, at most) twice: the second call did not send its text again.
    expect(prepared).toMatchObject({ name: SQUARES.name, statement: SQUARES.text });
    expect(Number(prepared!.plans)).toBe(2);
  });

  it("gives a statement's error to the caller and hands its connection back to the pool", async () => {
    const failing = { name: 'latchkey_test_failing', text: 'SELECT 1 / $1::int AS x' };
    await expect(runPrepared(dataSource, failing, [0])).rejects.toThrow(/division by zero/);
    // The pool's only connection came back: the next call gets it.
    expect(await runPrepared(dataSource, failing, [1])).toEqual([{ x: 1 }]);
  });
});
