import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryAdapter } from './memory-adapter.ts';

describe('memory adapter', () => {
  it('when more interactions are stored than the cap, then the store keeps the cap, the newest stay and the oldest are gone', async () => {
    const store = createMemoryAdapter({ maxEntriesPerKind: 5 });
    const interactions = store.adapter('Interaction');
    for (let i = 0; i < 50; i++) await interactions.upsert(`i${i}`, { uid: `u${i}` }, 600);
    assert.equal(store.size('Interaction'), 5);
    assert.equal(await interactions.find('i0'), undefined);
    assert.equal(await interactions.find('i44'), undefined);
    for (let i = 45; i < 50; i++) assert.deepEqual(await interactions.find(`i${i}`), { uid: `u${i}` });
  });

  it('when interactions flood the store, then sign-in sessions and grants of another kind are kept', async () => {
    const store = createMemoryAdapter({ maxEntriesPerKind: 3 });
    const sessions = store.adapter('Session');
    await sessions.upsert('s1', { uid: 'session-uid', accountId: 'magnus' }, 3600);
    await store.adapter('Grant').upsert('g1', { accountId: 'magnus' }, 3600);
    for (let i = 0; i < 100; i++) await store.adapter('Interaction').upsert(`i${i}`, {}, 600);
    assert.deepEqual(await sessions.findByUid('session-uid'), { uid: 'session-uid', accountId: 'magnus' });
    assert.ok(await store.adapter('Grant').find('g1'));
    assert.equal(store.size('Interaction'), 3);
  });

  it('when an entry is written again, then it counts once and becomes the newest', async () => {
    const store = createMemoryAdapter({ maxEntriesPerKind: 2 });
    const codes = store.adapter('AuthorizationCode');
    await codes.upsert('a', { n: 1 }, 60);
    await codes.upsert('b', { n: 1 }, 60);
    await codes.upsert('a', { n: 2 }, 60);
    await codes.upsert('c', { n: 1 }, 60);
    assert.equal(store.size('AuthorizationCode'), 2);
    assert.deepEqual(await codes.find('a'), { n: 2 });
    assert.equal(await codes.find('b'), undefined);
  });

  it('when an entry has expired, then it is not found and no longer counts', async () => {
    let clock = 0;
    const store = createMemoryAdapter({ maxEntriesPerKind: 10, now: () => clock });
    const interactions = store.adapter('Interaction');
    await interactions.upsert('old', {}, 600);
    clock += 601_000;
    assert.equal(await interactions.find('old'), undefined);
    assert.equal(store.size('Interaction'), 0);
  });

  it('when a grant is revoked, then everything issued under it is removed from the count too', async () => {
    const store = createMemoryAdapter({ maxEntriesPerKind: 10 });
    await store.adapter('AuthorizationCode').upsert('c', { grantId: 'g' }, 60);
    await store.adapter('Grant').upsert('g', { grantId: 'g' }, 60);
    await store.adapter('Grant').revokeByGrantId('g');
    assert.equal(store.size('AuthorizationCode'), 0);
    assert.equal(store.size('Grant'), 0);
  });
});
