import { SYSTEM_ACTOR } from '@latchkey/contracts';
import type { AuditEntryEntity } from './audit-entry.entity';
import { entryHash, GENESIS_HASH } from './audit-hash';
import { chainLinks } from './audit-sequencer';

const unlinked = (id: string): AuditEntryEntity => ({
  id,
  seq: null,
  at: new Date('2026-12-02T10:00:00.000Z'),
  action: 'request.granted',
  actor: SYSTEM_ACTOR,
  actorId: SYSTEM_ACTOR.id,
  targetType: 'request',
  targetId: `r-${id}`,
  targetName: null,
  diff: null,
  details: { id },
  sourceId: null,
  prevHash: null,
  hash: null,
});

describe('chainLinks', () => {
  it('gives entries the next seqs after the head, each linked to the one before', () => {
    const head = { seq: 41, hash: 'a'.repeat(64) };
    const links = chainLinks(head, [unlinked('e1'), unlinked('e2'), unlinked('e3')]);
    expect(links.map((l) => [l.id, l.seq])).toEqual([
      ['e1', 42],
      ['e2', 43],
      ['e3', 44],
    ]);
    expect(links[0].prevHash).toBe(head.hash);
    expect(links[1].prevHash).toBe(links[0].hash);
    expect(links[2].prevHash).toBe(links[1].hash);
  });

  it('hashes each entry as stored with its link, as verify recomputes it', () => {
    const [link] = chainLinks({ seq: 0, hash: GENESIS_HASH }, [unlinked('e1')]);
    expect(link.hash).toBe(entryHash({ ...unlinked('e1'), seq: 1, prevHash: GENESIS_HASH }));
    expect(link.hash).not.toBe(chainLinks({ seq: 0, hash: GENESIS_HASH }, [unlinked('e2')])[0].hash);
  });

  it('links nothing when nothing waits', () => {
    expect(chainLinks({ seq: 7, hash: GENESIS_HASH }, [])).toEqual([]);
  });
});
