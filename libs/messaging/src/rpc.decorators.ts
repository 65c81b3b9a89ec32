import { applyDecorators, PipeTransform, UsePipes } from '@nestjs/common';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { z } from 'zod';
import { EventContract, issuesFromZod, RequestContract } from '@latchkey/contracts';
import { AppException } from './app.exception';

/** Validates a NATS payload (the handler's `@Payload()` parameter) with the sender's schema. */
export class ContractPipe implements PipeTransform {
  constructor(private readonly schema: z.ZodType) {}

  transform(value: unknown) {
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) throw AppException.validation(issuesFromZod(parsed.error));
    return parsed.data;
  }
}

/** `@Rpc(Contracts.x)`: the handler of a request subject, its payload validated. */
export const Rpc = (contract: RequestContract<z.ZodType, z.ZodType>) =>
  applyDecorators(MessagePattern(contract.subject), UsePipes(new ContractPipe(contract.request)));

/** `@OnEvent(Contracts.x)`: the handler of an event subject, its payload validated. */
export const OnEvent = (contract: EventContract<z.ZodType>) =>
  applyDecorators(EventPattern(contract.subject) as MethodDecorator, UsePipes(new ContractPipe(contract.payload)));
