import { parseDuration, table } from './format';

describe('parseDuration', () => {
  it.each([
    ['90', 90],
    ['30m', 30],
    ['2h', 120],
    ['1h30m', 90],
    ['1d', 1440],
    [' 2H ', 120],
  ])('%s is %d minutes', (text, minutes) => expect(parseDuration(text)).toBe(minutes));

  it.each(['', 'soon', '2x', '0', '0m', 'h', '-5m'])('refuses %j', (text) => expect(parseDuration(text)).toBeNull());
});

describe('table', () => {
  it('pads columns to the widest cell and adds no trailing spaces', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['xyz', '1'],
          ['w', '22'],
        ],
      ),
    ).toBe('A    LONGER\nxyz  1\nw    22');
  });

  it('renders nothing for no rows', () => expect(table(['A'], [])).toBe(''));
});
