import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The GIN index on `approver_ids` answered no query: every reader asks `x = ANY(approver_ids)`,
 * which a GIN index cannot serve, and ORs it with the escalation tiers, which no index serves.
 * It was still written by every new request and every change of one that moves a row (a grant,
 * a revocation): work on the hot path for nothing.
 */
export class DropUnusedApproversIndex1764000002100 implements MigrationInterface {
  name = 'DropUnusedApproversIndex1764000002100';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX access.access_requests_approvers_idx');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX access_requests_approvers_idx ON access.access_requests USING gin (approver_ids)');
  }
}
