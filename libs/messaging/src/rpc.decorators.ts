import { applyDecorators, PipeTransform, UsePipes } from '@nestjs/common';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { z } from 'zod';
import { AppException, Contracts, EventContract, issuesFromZod, RequestContract } from '@latchkey/contracts';
import type { ReceivedOf } from '@latchkey/contracts';

/** Validates a NATS payload (the handler's `@Payload()` parameter) with the sender's schema. */
export class ContractPipe implements PipeTransform {
  constructor(private readonly schema: z.ZodType) {}

  transform(value: unknown) {
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) throw AppException.validation(issuesFromZod(parsed.error));
    return parsed.data;
  }
}

/** What a handler of `contract` may be: it takes the validated payload (then any of Nest's context parameters) and answers what the response schema accepts. */
export type RpcHandler<Req extends z.ZodType, Res extends z.ZodType> = (payload: z.output<Req>, ...context: never[]) => z.input<Res> | Promise<z.input<Res>>;

/**
 * `@Rpc(Contracts.x)`: the handler of a request subject, its payload validated once on the way in.
 * The compiler holds the handler to the contract: a handler whose payload parameter or answer does
 * not fit the contract's schemas does not compile.
 */
export function Rpc<Req extends z.ZodType, Res extends z.ZodType>(contract: RequestContract<Req, Res>) {
  const decorate = applyDecorators(MessagePattern(contract.subject), UsePipes(new ContractPipe(contract.request)));
  return <H extends RpcHandler<Req, Res>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<H>): void => {
    decorate(target, key, descriptor);
  };
}

/** The validated payload a handler of `Contracts[K]` receives. */
export type Received<K extends keyof typeof Contracts> = ReceivedOf<(typeof Contracts)[K]>;

/** `@OnEvent(Contracts.x)`: the handler of an event subject, its payload validated. */
export const OnEvent = (contract: EventContract<z.ZodType>) =>
  applyDecorators(EventPattern(contract.subject) as MethodDecorator, UsePipes(new ContractPipe(contract.payload)));
