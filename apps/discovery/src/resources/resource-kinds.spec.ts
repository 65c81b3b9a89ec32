import { kindsOf } from './resource-kinds';

describe('kindsOf', () => {
  it('keeps exactly the kinds of the connected resource types', () => {
    expect([...kindsOf(['postgresql-table'])].sort()).toEqual(['foreign_table', 'materialized_view', 'partitioned_table', 'sequence', 'table', 'view']);
    expect([...kindsOf(['postgresql-database', 'postgresql-role'])].sort()).toEqual(['database', 'role']);
    expect([...kindsOf(['postgresql-schema'])]).toEqual(['schema']);
    expect(kindsOf([]).size).toBe(0);
  });
});
