import { Readable } from 'node:stream';
import { Controller, Get, Headers, Query, Res, StreamableFile } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { AuditQuery, Contracts } from '@latchkey/contracts';
import type { AuditEntry } from '@latchkey/contracts';
import { MessageBus } from '@latchkey/messaging';
import { Access } from '../auth/auth.guard';
import { auditCsv } from './audit-csv';
import { parseInput } from './validate';

export const AuditListQuery = AuditQuery.extend({ format: z.enum(['json', 'csv']).optional() }).strict();

/** An export stops here; narrow it with `from`/`to` (the response says so in X-Latchkey-Export-Limit). */
export const AUDIT_CSV_MAX_ROWS = 100_000;
const CSV_PAGE_SIZE = 500;

const wantsCsv = (accept: string | undefined): boolean => /(^|,)\s*text\/csv\b/i.test(accept ?? '');

@Controller('api/v1/audit')
export class AuditHttpController {
  constructor(private readonly bus: MessageBus) {}

  /**
   * Newest first, filtered. `format=csv` (or `Accept: text/csv`) exports every matching entry,
   * from `pageToken` on if given, up to AUDIT_CSV_MAX_ROWS, instead of one page of JSON.
   */
  @Get()
  @Access('admin')
  async list(@Query() query: unknown, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) res: Response) {
    const { format, ...filters } = parseInput(AuditListQuery, query);
    if (format === 'json' || (format === undefined && !wantsCsv(accept))) return this.bus.request(Contracts.accessAuditList, filters);

    // The first page is read before answering, so that bad filters or an unreachable access
    // service still get a proper error status rather than a cut-off file.
    const first = await this.bus.request(Contracts.accessAuditList, { ...filters, pageSize: CSV_PAGE_SIZE });
    const bus = this.bus;
    async function* pages(): AsyncGenerator<AuditEntry[]> {
      let page = first;
      yield page.items;
      while (page.nextPageToken) {
        page = await bus.request(Contracts.accessAuditList, { ...filters, pageSize: CSV_PAGE_SIZE, pageToken: page.nextPageToken });
        yield page.items;
      }
    }
    res.setHeader('X-Latchkey-Export-Limit', String(AUDIT_CSV_MAX_ROWS));
    res.setHeader('Cache-Control', 'no-store');
    const filename = `latchkey-audit-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`;
    // A failure after the first bytes aborts the response (Nest's default for a started stream),
    // so a partial export never looks complete.
    return new StreamableFile(Readable.from(auditCsv(pages(), AUDIT_CSV_MAX_ROWS)), {
      type: 'text/csv; charset=utf-8',
      disposition: `attachment; filename="${filename}"`,
    });
  }

  /** Walks the whole hash chain; names the first entry that was edited or deleted. */
  @Get('verify')
  @Access('admin')
  verify() {
    return this.bus.request(Contracts.accessAuditVerify, {}, { timeoutMs: 120_000 });
  }
}
