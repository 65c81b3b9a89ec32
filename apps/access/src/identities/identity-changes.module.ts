import { Module } from '@nestjs/common';
import { IdentityChanges } from './identity-changes.repository';

/** One IdentityChanges for the identities (which record changes) and the requests (which review them). */
@Module({ providers: [IdentityChanges], exports: [IdentityChanges] })
export class IdentityChangesModule {}
