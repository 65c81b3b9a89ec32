import { CoalescedRun } from './coalesced-run';

/** A work function whose rounds end when the test says so. */
function gatedWork() {
  const rounds: Array<() => void> = [];
  let started = 0;
  const work = () =>
    new Promise<void>((resolve) => {
      started += 1;
      rounds.push(resolve);
    });
  return { work, started: () => started, finishRound: () => rounds.shift()!() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('CoalescedRun', () => {
  it('runs once when idle, and is not busy after', async () => {
    const gate = gatedWork();
    const runner = new CoalescedRun(gate.work);
    const done = runner.run();
    expect(runner.busy).toBe(true);
    gate.finishRound();
    await done;
    expect(gate.started()).toBe(1);
    expect(runner.busy).toBe(false);
  });

  it('turns any number of calls during a round into one more round, and they all wait for it', async () => {
    const gate = gatedWork();
    const runner = new CoalescedRun(gate.work);
    const first = runner.run();
    const joined = [runner.run(), runner.run(), runner.run()];
    let settled = false;
    void Promise.all(joined).then(() => (settled = true));
    gate.finishRound();
    await tick();
    expect(gate.started()).toBe(2);
    expect(settled).toBe(false);
    gate.finishRound();
    await Promise.all([first, ...joined]);
    expect(gate.started()).toBe(2);
  });

  it('rejects every caller when a round throws, and runs again on the next call', async () => {
    let fail = true;
    let rounds = 0;
    const runner = new CoalescedRun(async () => {
      rounds += 1;
      if (fail) throw new Error('down');
    });
    await expect(Promise.all([runner.run(), runner.run()])).rejects.toThrow('down');
    expect(runner.busy).toBe(false);
    fail = false;
    await runner.run();
    expect(rounds).toBe(2);
  });
});
