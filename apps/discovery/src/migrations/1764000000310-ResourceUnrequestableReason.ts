import { MigrationInterface, QueryRunner } from 'typeorm';

export class ResourceUnrequestableReason1764000000310 implements MigrationInterface {
  name = 'ResourceUnrequestableReason1764000000310';

  async up(q: QueryRunner): Promise<void> {
    // Roles only: why membership in the role is never handed out (null: it may be requested).
    // Roles found before this column existed offer nothing until the next refresh decides.
    await q.query('ALTER TABLE discovery.resources ADD COLUMN unrequestable_reason text');
    await q.query(
      "UPDATE discovery.resources SET unrequestable_reason = 'not checked yet: the next discovery refresh reads its memberships' WHERE kind = 'role'",
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE discovery.resources DROP COLUMN unrequestable_reason');
  }
}
