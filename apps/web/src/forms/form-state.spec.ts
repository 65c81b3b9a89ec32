import { Tags, UserInput } from '@latchkey/contracts';
import { dayBound, errorAt, errorsFromIssues, errorsOutside, getIn, isUnder, numberOrText, schemaErrors, setIn, splitList } from './form-state';

describe('form state', () => {
  it('keeps the first rule of each field, as the API names them', () => {
    expect(
      errorsFromIssues([
        { field: 'config.port', rule: 'must be a number' },
        { field: 'config.port', rule: 'must be between 1 and 65535' },
        { field: 'name', rule: 'x' },
      ]),
    ).toEqual({ 'config.port': 'must be a number', name: 'x' });
  });

  it("checks with a contracts schema in the API's words, plus cross-field rules", () => {
    expect(schemaErrors(UserInput, { email: 'nope', name: 'Ana' })).toEqual({ email: 'must be an email address' });
    expect(schemaErrors(Tags, { 'bad key!': 'x' })).toEqual({ 'bad key!': 'is not an allowed key: keys are 1-128 letters, digits, _ . : / -' });
    expect(schemaErrors(UserInput, { email: 'a@b.co', name: 'Ana' }, [{ field: 'groups', rule: 'extra' }])).toEqual({ groups: 'extra' });
  });

  it('finds the error of a field or of its first part', () => {
    const errors = { 'integrationOwners.0.values.1': 'must not be empty', integrationOwners: 'group rule' };
    expect(errorAt(errors, 'integrationOwners.0.values')).toBe('must not be empty');
    expect(errorAt(errors, 'integrationOwners')).toBe('group rule');
    expect(errorAt(errors, 'integrationOwnersX')).toBeUndefined();
    expect(errorsOutside({ name: 'a', '(body)': 'b', 'config.port': 'c' }, ['name', 'config'])).toEqual([['(body)', 'b']]);
    expect(isUnder('config.port', ['config'])).toBe(true);
    expect(isUnder('configuration', ['config'])).toBe(false);
  });

  it('reads and writes dotted paths without touching the original, arrays staying arrays', () => {
    const values = { config: { port: '5432' }, owners: [{ values: 'a' }, { values: 'b' }] };
    const next = setIn(values, 'owners.1.values', 'c');
    expect(next.owners).toEqual([{ values: 'a' }, { values: 'c' }]);
    expect(Array.isArray(next.owners)).toBe(true);
    expect(values.owners[1].values).toBe('b');
    expect(getIn(setIn(values, 'config.port', '1'), 'config.port')).toBe('1');
    expect(getIn(values, 'config.nothing.deeper')).toBeUndefined();
  });

  it('reads lists and numbers typed into text boxes', () => {
    expect(splitList(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(numberOrText('')).toBeUndefined();
    expect(numberOrText(' 5432 ')).toBe(5432);
    expect(numberOrText('54x')).toBe('54x');
  });

  it('turns a day into the bounds of that day in local time', () => {
    const from = dayBound('2026-03-04', false)!;
    const to = dayBound('2026-03-04', true)!;
    expect(new Date(from).getDate()).toBe(4);
    expect(Date.parse(to) - Date.parse(from)).toBeGreaterThanOrEqual(23 * 3_600_000);
    expect(dayBound('not a day', false)).toBeUndefined();
  });
});
