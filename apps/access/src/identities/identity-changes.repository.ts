import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { managerOf, Tx } from '../control-database/transactions.repository';
import type { Actor } from '@latchkey/contracts';

/** A change to a person (deactivated, deleted, groups changed) whose consequences on access are still to be drawn. */
export interface IdentityChange {
  id: string;
  userId: string;
  reason: string;
  actor: Actor;
}

type Raw = Record<string, any>;

/**
 * The durable list of people whose requests and approvals must be reviewed after the identity
 * provider changed them. A change is written in the same transaction as the change itself, so a
 * crash between the two cannot lose it; it is deleted once reviewed (the access sweeper reviews
 * what is left). Listeners hear of new changes at once, in this process.
 */
@Injectable()
export class IdentityChanges {
  private readonly listeners: Array<() => void> = [];

  constructor(private readonly dataSource: DataSource) {}

  async record(tx: Tx, userIds: string[], reason: string, actor: Actor): Promise<void> {
    const m = managerOf(tx);
    if (!userIds.length) return;
    await m.query('INSERT INTO access.identity_changes (user_id, reason, actor) SELECT unnest($1::uuid[]), $2, $3', [
      userIds,
      reason.slice(0, 1000),
      JSON.stringify(actor),
    ]);
  }

  /** The oldest changes not reviewed yet. */
  async pending(limit: number): Promise<IdentityChange[]> {
    const rows: Raw[] = await this.dataSource.query('SELECT id::text, user_id, reason, actor FROM access.identity_changes ORDER BY id LIMIT $1', [limit]);
    return rows.map((r) => ({ id: r.id, userId: r.user_id, reason: r.reason, actor: r.actor }));
  }

  async done(id: string): Promise<void> {
    await this.dataSource.query('DELETE FROM access.identity_changes WHERE id = $1', [id]);
  }

  onRecorded(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Tells the listeners, after the transaction that recorded changes has committed. */
  announce(): void {
    for (const listener of this.listeners) listener();
  }
}
