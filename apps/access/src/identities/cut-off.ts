import { diffFields } from '@latchkey/contracts';
import type { Actor } from '@latchkey/contracts';
import { AuditService } from '../audit/audit.service';
import type { Tx } from '../control-database/transactions.repository';
import { auditEntry, toTokenView } from './identity-views';
import { SignInRepository } from './sign-in.repository';
import { TokensRepository } from './tokens.repository';

export interface CutOffDeps {
  tokens: TokensRepository;
  signIn: SignInRepository;
  audit: AuditService;
}

/**
 * Ends every console session of the user and revokes every API token of theirs (each revocation
 * audited, with the reason), in the caller's transaction: what deactivating or deleting a user
 * does, whether an admin or SCIM asks.
 */
export async function cutOffUser(
  deps: CutOffDeps,
  tx: Tx,
  actor: Actor,
  userId: string,
  reason: string,
): Promise<{ sessionsEnded: number; revokedTokens: number }> {
  const revoked = await deps.tokens.revokeAllOf(tx, userId);
  const sessionsEnded = await deps.signIn.deleteSessionsOf(tx, userId);
  for (const token of revoked) {
    await deps.audit.append(
      auditEntry(
        'token.revoked',
        actor,
        { type: 'token', id: token.id, name: token.name },
        diffFields({ revokedAt: null }, { revokedAt: toTokenView(token).revokedAt }, ['revokedAt']),
        { reason, userId },
      ),
      tx,
    );
  }
  return { sessionsEnded, revokedTokens: revoked.length };
}
