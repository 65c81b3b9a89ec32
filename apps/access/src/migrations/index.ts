import { CreateIdentities1764000000400 } from './1764000000400-CreateIdentities';
import { CreateAuditLog1764000000410 } from './1764000000410-CreateAuditLog';
import { CreateAccessFlows1764000000420 } from './1764000000420-CreateAccessFlows';
import { CreateAccessRequests1764000000430 } from './1764000000430-CreateAccessRequests';
import { RecordWhoRevokedRequests1764000000435 } from './1764000000435-RecordWhoRevokedRequests';
import { TokenImpersonation1764000000630 } from './1764000000630-TokenImpersonation';
import { CreateSignIn1764000001100 } from './1764000001100-CreateSignIn';
import { CreateSsoIdentities1764000001200 } from './1764000001200-CreateSsoIdentities';
import { CreateScim1764000001300 } from './1764000001300-CreateScim';
import { CreateIdentityChanges1764000001400 } from './1764000001400-CreateIdentityChanges';
import { FlowManagedBy1764000001710 } from './1764000001710-FlowManagedBy';
import { CreateSsoSettings1764000001800 } from './1764000001800-CreateSsoSettings';
import { IdentityManagedBy1764000001810 } from './1764000001810-IdentityManagedBy';
import { SequenceAuditAfterCommit1764000002000 } from './1764000002000-SequenceAuditAfterCommit';
import { DropUnusedApproversIndex1764000002100 } from './1764000002100-DropUnusedApproversIndex';

/** Every migration of this service, oldest first (TypeORM runs them by the timestamp in each name); tools/service-layout.spec.ts checks none is left out. */
export const MIGRATIONS = [
  CreateIdentities1764000000400,
  CreateAuditLog1764000000410,
  CreateAccessFlows1764000000420,
  CreateAccessRequests1764000000430,
  RecordWhoRevokedRequests1764000000435,
  TokenImpersonation1764000000630,
  CreateSignIn1764000001100,
  CreateSsoIdentities1764000001200,
  CreateScim1764000001300,
  CreateIdentityChanges1764000001400,
  FlowManagedBy1764000001710,
  CreateSsoSettings1764000001800,
  IdentityManagedBy1764000001810,
  SequenceAuditAfterCommit1764000002000,
  DropUnusedApproversIndex1764000002100,
];
