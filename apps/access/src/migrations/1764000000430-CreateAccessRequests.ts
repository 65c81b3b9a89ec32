import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAccessRequests1764000000430 implements MigrationInterface {
  name = 'CreateAccessRequests1764000000430';

  async up(q: QueryRunner): Promise<void> {
    // A request holds a copy of what it needs from its flow (limits, approvers as resolved when it
    // was made): editing or deleting the flow later does not move requests already made.
    await q.query(`
      CREATE TABLE access.access_requests (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        status text NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'GRANTED', 'REVOKING', 'EXPIRED', 'REVOKED', 'REJECTED', 'FAILED')),
        requester_id uuid NOT NULL,
        requester_email text NOT NULL,
        flow_id uuid NOT NULL,
        flow_name text NOT NULL,
        flow_limits jsonb NOT NULL,
        integration_id uuid NOT NULL,
        items jsonb NOT NULL,
        justification text,
        duration_minutes integer NOT NULL,
        approval_mode text NOT NULL,
        approver_groups jsonb NOT NULL,
        approver_ids uuid[] NOT NULL,
        approvals jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        decided_at timestamptz(3),
        granted_at timestamptz(3),
        expires_at timestamptz(3),
        ended_at timestamptz(3),
        extensions integer NOT NULL DEFAULT 0,
        grant_id uuid,
        status_reason text,
        -- Where and as whom to log in; the password only until its first read (AES-256-GCM envelope).
        login jsonb,
        password_envelope jsonb,
        password_viewed_at timestamptz(3)
      )`);
    await q.query('CREATE INDEX access_requests_created_idx ON access.access_requests (created_at DESC, id DESC)');
    await q.query('CREATE INDEX access_requests_requester_idx ON access.access_requests (requester_id, created_at DESC)');
    await q.query('CREATE INDEX access_requests_approvers_idx ON access.access_requests USING gin (approver_ids)');
    await q.query('CREATE UNIQUE INDEX access_requests_grant_idx ON access.access_requests (grant_id) WHERE grant_id IS NOT NULL');
    // What the sweeper looks at: requests whose next step is Latchkey's.
    await q.query("CREATE INDEX access_requests_open_idx ON access.access_requests (status, updated_at) WHERE status IN ('APPROVED', 'GRANTED', 'REVOKING')");
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE access.access_requests');
  }
}
