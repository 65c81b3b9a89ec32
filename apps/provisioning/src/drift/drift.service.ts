import { Inject, Injectable, Optional } from '@nestjs/common';
import { Actor, AppException, DriftReport, ErrorCode } from '@latchkey/contracts';
import { LOGGER } from '@latchkey/messaging';
import type { AppLogger } from '@latchkey/messaging';
import { profileRoleName, TargetDatabase } from '@latchkey/pg-access';
import { decryptSecret, MasterKey } from '@latchkey/secrets';
import { GrantEntity } from '../store/grant.entity';
import { GrantsRepository } from '../store/grants.repository';
import { PROVISIONING_SETTINGS } from '../target/provisioning-settings';
import type { ProvisioningSettings } from '../target/provisioning-settings';
import { TargetResolver } from '../target/target-resolver';

const MARKER = 'latchkey_managed';

/**
 * Compares the target with the grants: managed login roles with no grant behind them, and active
 * grants whose login or memberships are missing. Repair disables the first and re-applies the second.
 */
@Injectable()
export class DriftService {
  constructor(
    private readonly grants: GrantsRepository,
    private readonly targets: TargetResolver,
    private readonly database: TargetDatabase,
    @Inject(PROVISIONING_SETTINGS) private readonly settings: ProvisioningSettings,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Optional() private readonly masterKey?: MasterKey,
  ) {}

  /** Repairs are audited (`integration.drift-repaired`, with what was found) when a person asks for them. */
  async report(integrationId: string, repair = false, actor?: Actor): Promise<DriftReport> {
    const target = await this.targets.resolve(integrationId);
    const [managed, active] = await Promise.all([this.database.inspectManaged(target.params), this.grants.activeForIntegration(integrationId)]);
    const byRole = new Map<string, GrantEntity[]>();
    for (const g of active) byRole.set(g.roleName, [...(byRole.get(g.roleName) ?? []), g]);

    const orphanRoles = managed.personalRoles
      .map((r) => ({ role: r.name, canLogin: r.canLogin, memberships: r.memberships.filter((m) => m !== MARKER) }))
      .filter((r) => !byRole.has(r.role) && (r.canLogin || r.memberships.length > 0));

    const onTarget = new Map(managed.personalRoles.map((r) => [r.name, r]));
    const missingGrants = active
      .map((g) => {
        const role = onTarget.get(g.roleName);
        const expected = g.items.map((i) => (i.resourceType === 'postgresql-role' ? i.role! : profileRoleName(i)));
        const missing = !role
          ? ['role']
          : [...(role.canLogin ? [] : ['login']), ...expected.filter((m) => !role.memberships.includes(m)).map((m) => `membership:${m}`)];
        return { grantId: g.id, role: g.roleName, missing };
      })
      .filter((m) => m.missing.length > 0);

    if (repair) {
      for (const orphan of orphanRoles) await this.database.disableRole(target.params, orphan.role);
      for (const m of missingGrants)
        await this.reapply(
          byRole.get(m.role)!.find((g) => g.id === m.grantId)!,
          target.params,
        );
      this.logger.info({ integrationId, orphans: orphanRoles.length, missing: missingGrants.length }, 'drift repaired');
      if (actor) {
        await this.grants.audit({
          action: 'integration.drift-repaired',
          actor,
          targetType: 'integration',
          targetId: integrationId,
          details: { disabledRoles: orphanRoles.map((o) => o.role), restoredGrants: missingGrants.map((m) => m.grantId) },
        });
      }
    }
    return { integrationId, checkedAt: new Date().toISOString(), orphanRoles, missingGrants, repaired: repair };
  }

  private async reapply(grant: GrantEntity, params: Awaited<ReturnType<TargetResolver['resolve']>>['params']) {
    if (!this.masterKey || !grant.passwordEnvelope) throw new AppException(ErrorCode.ServiceUnavailable, "No master key to restore the grant's password.");
    await this.database.applyGrant(params, {
      role: grant.roleName,
      password: decryptSecret(grant.passwordEnvelope, this.masterKey).password,
      validUntil: new Date(grant.expiresAt.getTime() + this.settings.graceSeconds * 1000),
      scramIterations: this.settings.scramIterations,
      connectionLimit: grant.connectionLimit,
      comment: `Latchkey personal login of ${grant.identityEmail} (identity ${grant.identityId})`,
      items: grant.items,
    });
  }
}
