import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { ApiTokenEntity } from './api-token.entity';

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
export const generateToken = (): string => `lk_${randomBytes(32).toString('base64url')}`;

@Injectable()
export class ApiTokensRepository {
  private readonly repo: Repository<ApiTokenEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(ApiTokenEntity);
  }

  /** The token behind a presented bearer value, if it is neither expired nor revoked. */
  async findUsable(token: string): Promise<ApiTokenEntity | null> {
    return this.repo
      .createQueryBuilder('t')
      .where('t.token_hash = :hash', { hash: hashToken(token) })
      .andWhere('t.revoked_at IS NULL')
      .andWhere('(t.expires_at IS NULL OR t.expires_at > now())')
      .getOne();
  }

  findSeed(): Promise<ApiTokenEntity | null> {
    return this.repo.findOneBy({ seeded: true });
  }

  /** Makes `token` the seeded admin token, replacing an earlier seed (LATCHKEY_ADMIN_TOKEN changed). */
  async putSeed(token: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO gateway.api_tokens (name, token_hash, role, seeded) VALUES ('admin (seeded)', $1, 'admin', true)
       ON CONFLICT (seeded) WHERE seeded DO UPDATE SET token_hash = EXCLUDED.token_hash, revoked_at = NULL, expires_at = NULL`,
      [hashToken(token)],
    );
  }
}
