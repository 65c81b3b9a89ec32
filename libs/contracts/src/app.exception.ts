import { ErrorCode, ErrorEnvelope, ValidationIssue } from './errors';

/**
 * The one error type domain code throws. It crosses NATS as an `ErrorEnvelope`; only the gateway
 * turns its code into an HTTP status.
 */
export class AppException extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorEnvelope['details'],
  ) {
    super(message);
    this.name = 'AppException';
  }

  static validation(issues: ValidationIssue[], message = 'The request is not valid.'): AppException {
    return new AppException(ErrorCode.ValidationFailed, `${message} ${issues.map((i) => `${i.field}: ${i.rule}`).join('; ')}`, { issues });
  }

  toEnvelope(): ErrorEnvelope {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }

  static fromEnvelope(envelope: ErrorEnvelope): AppException {
    return new AppException(envelope.code, envelope.message, envelope.details);
  }
}
