import { DynamicModule, Module } from '@nestjs/common';
import { ConnectorServiceEnv } from '@latchkey/config';
import { loadMasterKey, MasterKey } from '@latchkey/secrets';
import { PreflightRpcController } from './preflight/preflight.rpc.controller';
import { PreflightService } from './preflight/preflight.service';

@Module({})
export class ProvisioningModule {
  static forRoot(env: ConnectorServiceEnv): DynamicModule {
    // The master key is only needed to open builtin secrets; env and file secrets work without it.
    const keyEnv = { LATCHKEY_MASTER_KEY: env.LATCHKEY_MASTER_KEY, LATCHKEY_MASTER_KEY_FILE: env.LATCHKEY_MASTER_KEY_FILE };
    const masterKey = keyEnv.LATCHKEY_MASTER_KEY || keyEnv.LATCHKEY_MASTER_KEY_FILE ? loadMasterKey(keyEnv) : undefined;
    return {
      module: ProvisioningModule,
      controllers: [PreflightRpcController],
      providers: [PreflightService, ...(masterKey ? [{ provide: MasterKey, useValue: masterKey }] : [])],
    };
  }
}
