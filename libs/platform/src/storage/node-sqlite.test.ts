import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeSqliteDatabase } from './node-sqlite.ts';

describe('the node:sqlite adapter', () => {
  it('when the same query runs again with other values, then its prepared statement is reused and answers for those values', () => {
    const db = new NodeSqliteDatabase(':memory:', { busyTimeoutMs: 1000 });
    try {
      db.prepare('create table items (id integer primary key, name text)').run([]);
      const insert = db.prepare('insert into items (id, name) values (?, ?)');
      insert.run([1, 'one']);
      db.prepare('insert into items (id, name) values (?, ?)').run([2, 'two']);
      const select = 'select name from items where id = ?';
      assert.equal(db.prepare(select), db.prepare(select));
      assert.deepEqual(db.prepare(select).all([1]), [{ name: 'one' }]);
      assert.deepEqual(db.prepare(select).all([2]), [{ name: 'two' }]);
      assert.equal(db.cachedStatements, 3);
    } finally {
      db.close();
    }
  });

  it('when more distinct queries run than the cache holds, then it stays bounded and evicted queries still work', () => {
    const db = new NodeSqliteDatabase(':memory:', { busyTimeoutMs: 1000 });
    try {
      for (let i = 0; i < 1000; i++) assert.deepEqual(db.prepare(`select ${i} as n`).all([]), [{ n: i }]);
      assert.ok(db.cachedStatements <= 256, `${db.cachedStatements} statements kept`);
      assert.deepEqual(db.prepare('select 0 as n').all([]), [{ n: 0 }]);
    } finally {
      db.close();
    }
  });

  it('when the schema changes after a statement was prepared, then the reused statement sees the new schema', () => {
    const db = new NodeSqliteDatabase(':memory:', { busyTimeoutMs: 1000 });
    try {
      db.prepare('create table t (a integer)').run([]);
      db.prepare('insert into t (a) values (1)').run([]);
      assert.deepEqual(db.prepare('select * from t').all([]), [{ a: 1 }]);
      db.prepare('alter table t add column b integer default 2').run([]);
      assert.deepEqual(db.prepare('select * from t').all([]), [{ a: 1, b: 2 }]);
    } finally {
      db.close();
    }
  });
});
