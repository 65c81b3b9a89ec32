import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Person, PeopleDirectory } from '../requests/approvers';

/** Read-only questions about identities for flows and approvals (the access service's own tables). */
@Injectable()
export class PeopleDirectorySql implements PeopleDirectory {
  constructor(private readonly dataSource: DataSource) {}

  /** Active users only (a deactivated one approves nothing): `user`: by email; `group`: members of the groups; anything else: users whose attribute has one of the values. */
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
    return this.dataSource.query("SELECT id, email FROM access.users WHERE active AND attributes->>$1 = ANY($2::text[]) ORDER BY email", [attribute, values]);
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
    // Deactivated users count as existing: a flow naming one stays valid and is saved as it was.
    const rows: Array<{ email: string }> = await this.dataSource.query('SELECT lower(email) AS email FROM access.users WHERE lower(email) = ANY($1::text[])', [emails.map((e) => e.toLowerCase())]);
    const found = new Set(rows.map((r) => r.email));
    return emails.filter((e) => !found.has(e.toLowerCase()));
  }

  /** Which of these group names do not exist. */
  async unknownGroups(names: string[]): Promise<string[]> {
    const rows: Array<{ name: string }> = await this.dataSource.query('SELECT lower(name) AS name FROM access.groups WHERE lower(name) = ANY($1::text[])', [names.map((n) => n.toLowerCase())]);
    const found = new Set(rows.map((r) => r.name));
    return names.filter((n) => !found.has(n.toLowerCase()));
  }
}
