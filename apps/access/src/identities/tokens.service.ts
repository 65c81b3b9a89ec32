import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { diffFields } from '@latchkey/contracts';
import type { Actor, Caller, Token, TokenCreated, TokenInput } from '@latchkey/contracts';
import { LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { AuditService } from '../audit/audit.service';
import { generateToken, hashToken } from './api-token';
import { IdentitiesRepository } from './identities.repository';
import { TokensRepository } from './tokens.repository';
import { auditEntry, forbidden, notFound, pageOf, pagePosition, TOKEN_AUDIT_FIELDS, toTokenView } from './identity-views';

type ValidTokenInput = z.output<typeof TokenInput>;
type CreatedToken = z.output<typeof TokenCreated>;
const DAY_MS = 86_400_000;

/**
 * API tokens: shown once at creation, kept as SHA-256 only. People manage their own tokens;
 * admins anyone's. Who is asking comes from the actor the gateway passes, and their role is read
 * here, from this service's own users: a demotion counts at once, whatever a gateway cached.
 */
@Injectable()
export class TokensService {
  constructor(
    private readonly tokens: TokensRepository,
    private readonly identities: IdentitiesRepository,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  /** The caller behind a token hash, or null when the token is unknown, revoked, expired or its user is gone. */
  async authenticate(tokenHash: string): Promise<{ caller: Caller; tokenId: string; expiresAt: string | null } | null> {
    const found = await this.tokens.findUsable(tokenHash);
    if (!found) return null;
    void this.tokens.touch(found.token.id).catch((err: unknown) => this.logger.warn({ err, tokenId: found.token.id }, 'token use not recorded'));
    const { user, token } = found;
    return {
      caller: {
        userId: user.id,
        email: user.email,
        role: user.role,
        groups: user.groups,
        attributes: user.attributes,
        ...(token.impersonatedBy ? { impersonatedBy: token.impersonatedBy } : {}),
      },
      tokenId: token.id,
      expiresAt: token.expiresAt?.toISOString() ?? null,
    };
  }

  /**
   * A token for the caller, or (admins) for someone else: that is impersonation, made explicit. The
   * token names the admin (`impersonatedBy`) and so does every audit entry made with it, since the
   * admin saw the token and may be the one using it.
   */
  async create(actor: Actor, input: ValidTokenInput): Promise<CreatedToken> {
    await this.requireSelfOrAdmin(actor, input.userId, 'create tokens');
    const forSomeoneElse = !(actor.type === 'user' && actor.id === input.userId);
    // A token made with an impersonating token impersonates too: the admin is still behind it.
    const impersonatedBy =
      forSomeoneElse && actor.type === 'user' ? { id: actor.id, ...(actor.email !== undefined ? { email: actor.email } : {}) } : (actor.impersonatedBy ?? null);
    const secret = generateToken();
    return this.identities.transaction(async (tx) => {
      const owner = await this.identities.lockUser(tx, input.userId);
      if (!owner) throw notFound('user', input.userId);
      const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * DAY_MS) : null;
      const token = await this.tokens.insert(tx, { userId: owner.id, name: input.name, hash: hashToken(secret), expiresAt, impersonatedBy });
      const view = toTokenView(token);
      await this.audit.append(
        auditEntry('token.created', actor, { type: 'token', id: token.id, name: token.name }, diffFields(null, view, TOKEN_AUDIT_FIELDS), {
          userEmail: owner.email,
          impersonatedBy,
        }),
        tx,
      );
      return { ...view, token: secret };
    });
  }

  /** Without `userId`: every token for an admin, the caller's own for anyone else. */
  async list(actor: Actor, query: { userId?: string; pageSize: number; pageToken?: string }): Promise<{ items: Token[]; nextPageToken?: string }> {
    const admin = await this.isAdmin(actor);
    const userId = query.userId ?? (admin ? undefined : actor.id);
    if (!admin && userId !== actor.id) throw forbidden('You may list only your own tokens.');
    const rows = await this.tokens.page({ userId, after: pagePosition(query.pageToken), limit: query.pageSize + 1 });
    return pageOf(rows, query.pageSize, toTokenView);
  }

  /** Revokes at once; revoking a revoked token answers it unchanged (and audits nothing new). */
  async revoke(actor: Actor, id: string): Promise<Token> {
    const existing = await this.tokens.find(id);
    if (!existing) throw notFound('token', id);
    await this.requireSelfOrAdmin(actor, existing.userId, 'revoke tokens');
    return this.identities.transaction(async (tx) => {
      const result = await this.tokens.revoke(tx, id);
      if (!result) throw notFound('token', id);
      const view = toTokenView(result.token);
      if (result.revokedNow) {
        await this.audit.append(
          auditEntry(
            'token.revoked',
            actor,
            { type: 'token', id, name: result.token.name },
            diffFields({ revokedAt: null }, { revokedAt: view.revokedAt }, ['revokedAt']),
            { userId: result.token.userId },
          ),
          tx,
        );
      }
      return view;
    });
  }

  private async isAdmin(actor: Actor): Promise<boolean> {
    if (actor.type === 'system') return true;
    if (!z.uuid().safeParse(actor.id).success) return false;
    return (await this.identities.findUser(actor.id))?.role === 'admin';
  }

  private async requireSelfOrAdmin(actor: Actor, userId: string, what: string): Promise<void> {
    if (actor.type === 'user' && actor.id === userId) return;
    if (!(await this.isAdmin(actor))) throw forbidden(`You may ${what} only for yourself; admins may for anyone.`);
  }
}
