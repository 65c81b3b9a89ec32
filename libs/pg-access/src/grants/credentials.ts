import type { TargetConnectionParams } from '../connection';
import { quoteIdent, quoteLiteral } from '../quote';
import { GrantError } from './grant-error';
import { validUntilLiteral } from './grant-sql';
import { GENERATED_PASSWORD_ITERATIONS, personalRoleVerifier } from './scram';
import { assertManaged, findRole, lockName, transaction, withSession } from './target-session';

/** Moves the password's expiry of a personal role (a grant was extended). */
export async function setValidUntil(conn: TargetConnectionParams, role: string, validUntil: Date): Promise<void> {
  const literal = validUntilLiteral(validUntil);
  await alterManagedRole(conn, role, `ALTER ROLE ${quoteIdent(role)} VALID UNTIL ${literal}`);
}

/**
 * Replaces the password of a personal role (credentials reset) with `password`, from
 * generatePassword(), sent as a verifier of `iterations`; the old one stops working at once.
 */
export async function setPassword(
  conn: TargetConnectionParams,
  role: string,
  password: string,
  validUntil: Date,
  iterations = GENERATED_PASSWORD_ITERATIONS,
): Promise<void> {
  const verifier = await personalRoleVerifier(password, iterations);
  const sql = `ALTER ROLE ${quoteIdent(role)} PASSWORD ${quoteLiteral(verifier)} VALID UNTIL ${validUntilLiteral(validUntil)}`;
  await alterManagedRole(conn, role, sql);
}

async function alterManagedRole(conn: TargetConnectionParams, role: string, sql: string): Promise<void> {
  await withSession(conn, conn.dbname, (client) =>
    transaction(client, async () => {
      await lockName(client, role);
      const row = await findRole(client, role);
      if (!row) throw new GrantError('not_found', `Role ${quoteIdent(role)} does not exist`);
      assertManaged(role, row);
      await client.query(sql);
    }),
  );
}
