import { MigrationInterface, QueryRunner } from 'typeorm';

/** Which OpenID Provider account is which user (issue 16): a person stays linked when their email changes at the provider. */
export class CreateSsoIdentities1764000001200 implements MigrationInterface {
  name = 'CreateSsoIdentities1764000001200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE access.sso_identities (
        issuer text NOT NULL,
        subject text NOT NULL,
        user_id uuid NOT NULL REFERENCES access.users (id) ON DELETE CASCADE,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        last_sign_in_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (issuer, subject)
      )`);
    // One account per provider and user: a second subject cannot take over a linked user.
    await q.query('CREATE UNIQUE INDEX sso_identities_user_unique ON access.sso_identities (user_id, issuer)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE access.sso_identities');
  }
}
