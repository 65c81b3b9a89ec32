import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateProvisioning1764000000200 implements MigrationInterface {
  name = 'CreateProvisioning1764000000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE provisioning.grants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        idempotency_key text NOT NULL UNIQUE,
        integration_id uuid NOT NULL,
        connector_id text NOT NULL,
        identity_id text NOT NULL,
        identity_email text NOT NULL,
        role_name text NOT NULL,
        items jsonb NOT NULL,
        connection_limit integer NOT NULL,
        status text NOT NULL,
        -- EXPIRED (time ran out) or REVOKED (a person ended it); set when the revocation is decided.
        end_reason text,
        expires_at timestamptz(3) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        granted_at timestamptz(3),
        ended_at timestamptz(3),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        -- The generated password, encrypted (AES-256-GCM envelope), for the idempotent retry of a grant.
        password_envelope jsonb,
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX grants_sweep_idx ON provisioning.grants (connector_id, status, expires_at)');
    await q.query('CREATE INDEX grants_person_idx ON provisioning.grants (integration_id, role_name, status)');
    await q.query('CREATE INDEX grants_created_idx ON provisioning.grants (created_at, id)');
    await q.query(`
      CREATE TABLE provisioning.personal_roles (
        integration_id uuid NOT NULL,
        role_name text NOT NULL,
        connector_id text NOT NULL,
        identity_id text NOT NULL,
        last_active_at timestamptz(3) NOT NULL DEFAULT now(),
        -- ACTIVE (exists on the target), DROPPED, or KEPT (could not be dropped: NOLOGIN, no memberships).
        state text NOT NULL DEFAULT 'ACTIVE',
        state_reason text,
        PRIMARY KEY (integration_id, role_name)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE provisioning.personal_roles');
    await q.query('DROP TABLE provisioning.grants');
  }
}
