import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateCatalog1764000000000 implements MigrationInterface {
  name = 'CreateCatalog1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE catalog.integrations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        name_key text NOT NULL,
        type text NOT NULL,
        connector_id text NOT NULL,
        connected_resource_types jsonb NOT NULL,
        config jsonb NOT NULL,
        secret jsonb NOT NULL,
        credential_rotation_days integer,
        custom_access_details text,
        integration_owners jsonb NOT NULL DEFAULT '[]',
        resource_owner_mappings jsonb NOT NULL DEFAULT '[]',
        status text NOT NULL,
        status_reason text,
        last_test jsonb,
        -- Milliseconds, as JavaScript keeps them: page tokens carry created_at exactly.
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT integrations_name_key_unique UNIQUE (name_key)
      )`);
    await q.query('CREATE INDEX integrations_created_idx ON catalog.integrations (created_at, id)');
    await q.query(`
      CREATE TABLE catalog.connectors (
        id text PRIMARY KEY,
        version text NOT NULL,
        services jsonb NOT NULL DEFAULT '{}',
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE catalog.connectors');
    await q.query('DROP TABLE catalog.integrations');
  }
}
