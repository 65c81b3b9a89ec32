import { z } from 'zod';
import { SslMode } from './enums';
import { CLEAN_TEXT_RULE, isCleanText } from './text';

const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const IPV4 = z.ipv4();
const IPV6 = z.ipv6();

/** A DNS name or an IP address. Plain zod, so that the browser checks host names as the API does. */
export const isHostname = (value: string): boolean =>
  IPV4.safeParse(value).success || IPV6.safeParse(value).success || (value.length <= 253 && value.split('.').every((label) => DNS_LABEL.test(label)));

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const TLS_VERIFYING_MODES: readonly SslMode[] = ['require', 'verify-ca', 'verify-full'];
const utf8 = new TextEncoder();
/** Bytes of a string in UTF-8 (PostgreSQL's name limit counts bytes); TextEncoder works in Node and browsers alike. */
export const utf8Length = (value: string): number => utf8.encode(value).length;

/**
 * The seed's PostgreSQL settings; defaults: port 5432, database `postgres`, sslmode `prefer`.
 * It lives with the contracts (zod only) so that the web console's wizard validates with the same
 * rules and words as the API; libs/config registers it as the `postgresql` type's config schema.
 */
export const PostgresConfig = z
  .object({
    hostname: z.string({ error: 'is required' }).min(1, 'is required').refine(isHostname, 'must be a DNS name or an IP address'),
    port: z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be between 1 and 65535')
      .max(65535, 'must be between 1 and 65535')
      .default(5432),
    dbname: z
      .string()
      .min(1, 'must not be empty')
      .refine((v) => utf8Length(v) <= 63, 'must be at most 63 bytes (PostgreSQL truncates longer names)')
      .refine(isCleanText, CLEAN_TEXT_RULE)
      .default('postgres'),
    sslmode: SslMode.default('prefer'),
    sslRootCert: z
      .string()
      .max(65_536, 'must be at most 64 KiB')
      .regex(PEM_CERTIFICATE, 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)')
      .refine(isCleanText, CLEAN_TEXT_RULE)
      .nullish(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.sslRootCert && !TLS_VERIFYING_MODES.includes(config.sslmode)) {
      ctx.addIssue({ code: 'custom', path: ['sslRootCert'], message: 'is used only with sslmode require, verify-ca or verify-full' });
    }
  });
export type PostgresConfig = z.output<typeof PostgresConfig>;
