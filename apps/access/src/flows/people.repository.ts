import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '@latchkey/contracts';
import type { Person, PeopleDirectory } from './approvers';

/** A person as the flows see them: who they are now, and whether they may still act (SCIM can deactivate them). */
export type PersonNow = Omit<Caller, 'impersonatedBy'> & { active: boolean };

/** Read-only questions about identities for flows and approvals (the access service's own tables). */
@Injectable()
export class PeopleRepository implements PeopleDirectory {
  constructor(private readonly dataSource: DataSource) {}

  /** `user`: by email; `group`: members of the groups; anything else: users whose attribute has one of the values. Deactivated users are nobody. */
  async withAttribute(attribute: string, values: string[]): Promise<Person[]> {
    if (values.length === 0) return [];
    const lowered = values.map((v) => v.toLowerCase());
    if (attribute === 'user') {
      return this.dataSource.query('SELECT id, email FROM access.users WHERE active AND lower(email) = ANY($1::text[]) ORDER BY email', [lowered]);
    }
    if (attribute === 'group') {
      return this.dataSource.query(
        `SELECT DISTINCT u.id, u.email FROM access.users u
           JOIN access.user_groups ug ON ug.user_id = u.id
           JOIN access.groups g ON g.id = ug.group_id
          WHERE u.active AND lower(g.name) = ANY($1::text[]) ORDER BY u.email`,
        [lowered],
      );
    }
    return this.dataSource.query('SELECT id, email FROM access.users WHERE active AND attributes->>$1 = ANY($2::text[]) ORDER BY email', [attribute, values]);
  }

  /** The user as they are now, or null when they no longer exist. */
  async person(id: string): Promise<PersonNow | null> {
    const rows: Array<{ id: string; email: string; role: PersonNow['role']; attributes: Record<string, string>; active: boolean; groups: string[] }> =
      await this.dataSource.query(
        `SELECT u.id, u.email, u.role, u.attributes, u.active,
              COALESCE((SELECT array_agg(g.name ORDER BY g.name) FROM access.user_groups ug JOIN access.groups g ON g.id = ug.group_id WHERE ug.user_id = u.id), '{}') AS groups
         FROM access.users u WHERE u.id = $1`,
        [id],
      );
    const r = rows[0];
    return r ? { userId: r.id, email: r.email, role: r.role, attributes: r.attributes, active: r.active, groups: r.groups } : null;
  }

  /** Every active user with what requestor conditions look at (email, groups, attributes), by email. */
  async everyone(): Promise<Array<{ id: string; email: string; name: string; groups: string[]; attributes: Record<string, string> }>> {
    return this.dataSource.query(
      `SELECT u.id, u.email, u.name, u.attributes,
              coalesce(array_agg(g.name ORDER BY g.name) FILTER (WHERE g.name IS NOT NULL), '{}') AS groups
         FROM access.users u
         LEFT JOIN access.user_groups ug ON ug.user_id = u.id
         LEFT JOIN access.groups g ON g.id = ug.group_id
        WHERE u.active
        GROUP BY u.id ORDER BY u.email`,
    );
  }

  /** How many people each value names (0: nobody, e.g. an empty or missing group). */
  async countEach(attribute: string, values: string[]): Promise<number[]> {
    return Promise.all(values.map(async (v) => (await this.withAttribute(attribute, [v])).length));
  }

  /** Which of these emails are no user's. */
  async unknownEmails(emails: string[]): Promise<string[]> {
    // A deactivated user still exists (a flow naming them stays valid); they just approve nothing while deactivated.
    const rows: Array<{ email: string }> = await this.dataSource.query('SELECT lower(email) AS email FROM access.users WHERE lower(email) = ANY($1::text[])', [
      emails.map((e) => e.toLowerCase()),
    ]);
    const found = new Set(rows.map((r) => r.email));
    return emails.filter((e) => !found.has(e.toLowerCase()));
  }

  /** Which of these group names do not exist. */
  async unknownGroups(names: string[]): Promise<string[]> {
    const rows: Array<{ name: string }> = await this.dataSource.query('SELECT lower(name) AS name FROM access.groups WHERE lower(name) = ANY($1::text[])', [
      names.map((n) => n.toLowerCase()),
    ]);
    const found = new Set(rows.map((r) => r.name));
    return names.filter((n) => !found.has(n.toLowerCase()));
  }
}
