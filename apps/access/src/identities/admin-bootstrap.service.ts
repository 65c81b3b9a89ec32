import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { diffFields, SYSTEM_ACTOR } from '@latchkey/contracts';
import { LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { AuditService } from '../audit/audit.service';
import type { Tx } from '../control-database/transactions.repository';
import { generateToken, hashToken } from './api-token';
import { IdentitiesRepository } from './identities.repository';
import { TokensRepository } from './tokens.repository';
import { auditEntry, TOKEN_AUDIT_FIELDS, toTokenView, toUserView, USER_AUDIT_FIELDS } from './identity-views';

export const ADMIN_BOOTSTRAP = Symbol('ADMIN_BOOTSTRAP');
export interface AdminBootstrapOptions {
  /** LATCHKEY_ADMIN_EMAIL: this user exists and is an admin after every start. */
  email: string;
  /** LATCHKEY_ADMIN_TOKEN: becomes that user's bootstrap token, replacing an earlier one. */
  token?: string;
}

/**
 * The first admin. At every start the user named by LATCHKEY_ADMIN_EMAIL is made to exist with
 * the admin role, and LATCHKEY_ADMIN_TOKEN becomes their bootstrap token (replaced when the value
 * changes, un-revoked when it was revoked: the environment wins). Without it, the first start
 * generates a token and prints it once on stdout, never in the JSON log; later starts keep it.
 * Replicas starting together serialize on an advisory lock.
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  constructor(
    @Inject(ADMIN_BOOTSTRAP) private readonly options: AdminBootstrapOptions,
    private readonly identities: IdentitiesRepository,
    private readonly tokens: TokensRepository,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const generated = await this.run();
    if (generated) {
      process.stdout.write(`\nLatchkey admin token for ${this.options.email} (shown once; set LATCHKEY_ADMIN_TOKEN to choose your own):\n  ${generated}\n\n`);
      this.logger.info({ email: this.options.email }, 'generated the bootstrap admin token and printed it once on stdout');
    }
  }

  /** Answers the token it generated, if it had to generate one. */
  async run(): Promise<string | undefined> {
    const { email, token } = this.options;
    return this.identities.transaction(async (tx) => {
      await this.identities.lockAdminBootstrap(tx);
      let user = await this.identities.findUserByEmail(email, tx);
      if (!user) {
        const id = await this.identities.insertUser(tx, { email: email.toLowerCase(), name: 'Administrator', attributes: {}, role: 'admin' });
        user = (await this.identities.findUser(id, tx))!;
        await this.audit.append(
          auditEntry('user.created', SYSTEM_ACTOR, { type: 'user', id, name: user.email }, diffFields(null, toUserView(user), USER_AUDIT_FIELDS), {
            bootstrap: true,
          }),
          tx,
        );
        this.logger.info({ userId: id, email: user.email }, 'bootstrap admin created');
      } else if (user.role !== 'admin') {
        await this.identities.updateUser(tx, user.id, { ...user, role: 'admin' });
        await this.audit.append(
          auditEntry(
            'user.updated',
            SYSTEM_ACTOR,
            { type: 'user', id: user.id, name: user.email },
            { role: { before: user.role, after: 'admin' } },
            { bootstrap: true },
          ),
          tx,
        );
      }

      const current = await this.tokens.findBootstrap(tx);
      let generated: string | undefined;
      if (token) {
        const hash = hashToken(token);
        if (current && current.hash === hash && current.userId === user.id && !current.revokedAt) return undefined;
        await this.putToken(tx, user.id, hash, current ? 'LATCHKEY_ADMIN_TOKEN changed' : 'LATCHKEY_ADMIN_TOKEN');
      } else if (!current) {
        generated = generateToken();
        await this.putToken(tx, user.id, hashToken(generated), 'generated at first start');
      }
      return generated;
    });
  }

  private async putToken(tx: Tx, userId: string, hash: string, source: string) {
    const row = await this.tokens.putBootstrap(tx, userId, hash);
    await this.audit.append(
      auditEntry('token.created', SYSTEM_ACTOR, { type: 'token', id: row.id, name: row.name }, diffFields(null, toTokenView(row), TOKEN_AUDIT_FIELDS), {
        bootstrap: true,
        source,
      }),
      tx,
    );
  }
}
