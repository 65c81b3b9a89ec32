import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateDiscovery1764000000300 implements MigrationInterface {
  name = 'CreateDiscovery1764000000300';

  async up(q: QueryRunner): Promise<void> {
    // One row per discovered object. The id is derived from (integration, kind, path), so the same
    // table keeps it across refreshes; updated_at moves only when something about it changed.
    await q.query(`
      CREATE TABLE discovery.resources (
        id uuid PRIMARY KEY,
        integration_id uuid NOT NULL,
        kind text NOT NULL,
        type text NOT NULL,
        database text,
        schema text,
        name text NOT NULL,
        -- Byte order: paths sort and page the same whatever the control database's locale.
        path text COLLATE "C" NOT NULL,
        owner text,
        comment text,
        comment_tags jsonb NOT NULL DEFAULT '{}',
        managed boolean NOT NULL DEFAULT false,
        discovered_at timestamptz(3) NOT NULL,
        updated_at timestamptz(3) NOT NULL
      )`);
    await q.query('CREATE INDEX resources_integration_path_idx ON discovery.resources (integration_id, path, id)');
    await q.query('CREATE INDEX resources_path_idx ON discovery.resources (path, id)');
    // Tags set through the API, apart from the discovered rows: a refresh never writes them.
    await q.query(`
      CREATE TABLE discovery.api_tags (
        resource_id uuid PRIMARY KEY REFERENCES discovery.resources (id) ON DELETE CASCADE,
        tags jsonb NOT NULL,
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE discovery.refresh_state (
        integration_id uuid PRIMARY KEY,
        connector_id text NOT NULL,
        started_at timestamptz(3),
        succeeded_at timestamptz(3),
        failed_at timestamptz(3),
        last_error text,
        added integer,
        updated integer,
        removed integer,
        total integer,
        duration_ms integer,
        skipped_databases jsonb NOT NULL DEFAULT '[]'
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE discovery.refresh_state');
    await q.query('DROP TABLE discovery.api_tags');
    await q.query('DROP TABLE discovery.resources');
  }
}
