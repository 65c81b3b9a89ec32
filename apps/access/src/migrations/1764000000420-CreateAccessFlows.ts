import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAccessFlows1764000000420 implements MigrationInterface {
  name = 'CreateAccessFlows1764000000420';

  async up(q: QueryRunner): Promise<void> {
    // The flow's rules live in one validated document; integration_ids is kept beside it for filters.
    await q.query(`
      CREATE TABLE access.access_flows (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        active boolean NOT NULL,
        definition jsonb NOT NULL,
        integration_ids uuid[] NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE UNIQUE INDEX access_flows_name_idx ON access.access_flows (lower(name))');
    await q.query('CREATE INDEX access_flows_integrations_idx ON access.access_flows USING gin (integration_ids)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE access.access_flows');
  }
}
