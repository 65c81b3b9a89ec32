import { applyDecorators, Header, SetMetadata } from '@nestjs/common';

export const NO_STORE_KEY = 'latchkey:no-store';

/**
 * For answers that carry a password or a new token: no browser, proxy or CDN may keep a copy
 * (`Cache-Control: no-store`, and `Pragma: no-cache` for HTTP/1.0 caches). openapi.spec.ts checks
 * that every route whose answer has a `password` or `token` field says so.
 */
export const NoStore = () => applyDecorators(SetMetadata(NO_STORE_KEY, true), Header('Cache-Control', 'no-store'), Header('Pragma', 'no-cache'));
