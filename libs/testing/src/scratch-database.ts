import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { SHARED_DATABASE_URL, withDatabase } from './test-stack';

/** A database of a suite's own, created on a server for the suite and dropped after it. */
export interface ScratchDatabase {
  readonly name: string;
  /** The server's URL with this database. */
  readonly url: string;
  /** Drops it, ending the sessions still on it. */
  drop(): Promise<void>;
}

/** Creates `<prefix>_<8 hex>` on `serverUrl` (the shared test server by default). */
export async function createScratchDatabase(prefix: string, serverUrl = SHARED_DATABASE_URL): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await onServer(serverUrl, 'CREATE DATABASE %I', name);
  return { name, url: withDatabase(serverUrl, name), drop: () => onServer(serverUrl, 'DROP DATABASE IF EXISTS %I WITH (FORCE)', name) };
}

/** Runs `template` with the database's name quoted by the server (format's %I). */
async function onServer(serverUrl: string, template: string, name: string): Promise<void> {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ sql: string }>('SELECT format($1::text, $2::text) AS sql', [template, name]);
    await admin.query(rows[0].sql);
  } finally {
    await admin.end();
  }
}
