import { setImmediate as nextTurn } from 'node:timers/promises';
import { SameTurnBatch } from './same-turn-batch';

/** A batch whose work doubles its inputs, recording each run's inputs. */
function doubling(maxSize?: number) {
  const runs: number[][] = [];
  const batch = new SameTurnBatch(
    async (inputs: number[]) => {
      runs.push(inputs);
      return inputs.map((n) => n * 2);
    },
    { maxSize },
  );
  return { batch, runs };
}

describe('SameTurnBatch', () => {
  it('answers the calls of one turn with one run, each with its own output', async () => {
    const { batch, runs } = doubling();
    await expect(Promise.all([batch.add(1), batch.add(2), batch.add(3)])).resolves.toEqual([2, 4, 6]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it('runs the calls of different turns apart, and splits a turn past maxSize', async () => {
    const { batch, runs } = doubling(2);
    const first = batch.add(1);
    await nextTurn();
    const rest = [batch.add(2), batch.add(3), batch.add(4)];
    await expect(Promise.all([first, ...rest])).resolves.toEqual([2, 4, 6, 8]);
    expect(runs).toEqual([[1], [2, 3], [4]]);
  });

  it("rejects every call of a run with the run's error, and the next turn runs afresh", async () => {
    let fail = true;
    const batch = new SameTurnBatch(async (inputs: string[]) => {
      if (fail) throw new Error('the database went away');
      return inputs.map((s) => s.toUpperCase());
    });
    const answers = await Promise.allSettled([batch.add('a'), batch.add('b')]);
    expect(answers).toEqual([
      { status: 'rejected', reason: new Error('the database went away') },
      { status: 'rejected', reason: new Error('the database went away') },
    ]);
    fail = false;
    await expect(batch.add('c')).resolves.toBe('C');
  });

  it('rejects a run answered with another number of outputs than it had inputs', async () => {
    const batch = new SameTurnBatch(async (inputs: number[]) => inputs.slice(1));
    await expect(Promise.all([batch.add(1), batch.add(2)])).rejects.toThrow('a batch of 2 was answered with 1');
  });

  it('with aloneOnFailure, runs each input of a failed run alone: only the input that fails rejects', async () => {
    const runs: string[][] = [];
    const batch = new SameTurnBatch(
      async (inputs: string[]) => {
        runs.push(inputs);
        if (inputs.includes('bad')) throw new Error(`refused ${inputs.join(',')}`);
        return inputs.map((s) => s.toUpperCase());
      },
      { aloneOnFailure: true },
    );
    const answers = await Promise.allSettled([batch.add('a'), batch.add('bad'), batch.add('c')]);
    expect(answers).toEqual([
      { status: 'fulfilled', value: 'A' },
      { status: 'rejected', reason: new Error('refused bad') },
      { status: 'fulfilled', value: 'C' },
    ]);
    expect(runs).toEqual([['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
  });

  it('with keyOf, runs the inputs of one key in rounds, a round once the one before has answered', async () => {
    const runs: string[][] = [];
    let open = 0;
    const batch = new SameTurnBatch(
      async (inputs: Array<{ id: string; n: number }>) => {
        expect(open).toBe(0);
        open += 1;
        runs.push(inputs.map((i) => `${i.id}${i.n}`));
        await nextTurn();
        open -= 1;
        return inputs.map((i) => i.n);
      },
      { keyOf: (i) => i.id, aloneOnFailure: true },
    );
    const answers = await Promise.all(
      [
        { id: 'a', n: 1 },
        { id: 'b', n: 2 },
        { id: 'a', n: 3 },
        { id: 'a', n: 4 },
        { id: 'c', n: 5 },
      ].map((i) => batch.add(i)),
    );
    expect(answers).toEqual([1, 2, 3, 4, 5]);
    expect(runs).toEqual([['a1', 'b2', 'c5'], ['a3'], ['a4']]);
  });

  it("with keyOf and aloneOnFailure, a later round's failure leaves the earlier rounds' answers as they were", async () => {
    const runs: string[][] = [];
    const batch = new SameTurnBatch(
      async (inputs: Array<{ id: string; n: number }>) => {
        runs.push(inputs.map((i) => `${i.id}${i.n}`));
        if (inputs.some((i) => i.n === 3)) throw new Error('refused 3');
        return inputs.map((i) => i.n);
      },
      { keyOf: (i) => i.id, aloneOnFailure: true },
    );
    const answers = await Promise.allSettled(
      [
        { id: 'a', n: 1 },
        { id: 'b', n: 2 },
        { id: 'a', n: 3 },
        { id: 'b', n: 4 },
      ].map((i) => batch.add(i)),
    );
    expect(answers).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'fulfilled', value: 2 },
      { status: 'rejected', reason: new Error('refused 3') },
      { status: 'fulfilled', value: 4 },
    ]);
    // The first round ran once; the second failed together, then each of its inputs alone.
    expect(runs).toEqual([['a1', 'b2'], ['a3', 'b4'], ['a3'], ['b4']]);
  });
});
