import { createHash, randomBytes } from 'node:crypto';

/** `lk_` and 32 random bytes in base64url: what a person sends as `Authorization: Bearer ...`. */
export const generateToken = (): string => `lk_${randomBytes(32).toString('base64url')}`;

/** The only form in which a token is kept or sent over NATS. */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
