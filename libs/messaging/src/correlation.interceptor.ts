import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { NatsContext } from '@nestjs/microservices';
import { Observable } from 'rxjs';
import { CORRELATION_HEADER, withCorrelation } from './correlation';

/** Runs each NATS handler inside the correlation id its caller sent. */
@Injectable()
export class CorrelationInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const ctx = context.switchToRpc().getContext<NatsContext>();
    const id = ctx?.getHeaders?.()?.get(CORRELATION_HEADER);
    return new Observable((subscriber) => withCorrelation(id, () => next.handle().subscribe(subscriber)));
  }
}
