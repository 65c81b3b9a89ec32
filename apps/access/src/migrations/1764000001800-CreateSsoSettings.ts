import { MigrationInterface, QueryRunner } from 'typeorm';

/** Single sign-on set by an admin (issue 16): one row; the client secret only as an envelope sealed under the master key. */
export class CreateSsoSettings1764000001800 implements MigrationInterface {
  name = 'CreateSsoSettings1764000001800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE access.sso_settings (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        issuer_url text NOT NULL,
        client_id text NOT NULL,
        client_secret jsonb NOT NULL,
        provider_name text NOT NULL,
        groups_claim text NOT NULL,
        scopes text NOT NULL,
        require_sso boolean,
        just_in_time boolean,
        version uuid NOT NULL DEFAULT gen_random_uuid(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_by text
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE access.sso_settings');
  }
}
