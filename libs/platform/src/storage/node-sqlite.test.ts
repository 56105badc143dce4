import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
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

  it("when a file is open, then it is this connection's alone: another one can neither read nor write it until it closes", () => {
    const dir = mkdtempSync(join(tmpdir(), 'node-sqlite-'));
    const file = join(dir, 'items.db');
    const db = new NodeSqliteDatabase(file, { busyTimeoutMs: 1000 });
    try {
      db.prepare('create table items (id integer primary key)').run([]);
      db.prepare('insert into items (id) values (?)').run([1]);
      assert.deepEqual(db.prepare('select id from items').all([]), [{ id: 1 }]);
      // No shared-memory index: nothing in WAL mode is shared with another connection.
      assert.equal(existsSync(`${file}-shm`), false);
      const other = new DatabaseSync(file, { timeout: 50 });
      try {
        assert.throws(() => other.prepare('select id from items').all(), /database is locked/);
        assert.throws(() => other.exec('insert into items (id) values (2)'), /database is locked/);
      } finally {
        other.close();
      }
      db.close();
      const after = new DatabaseSync(file);
      try {
        assert.deepEqual(
          after
            .prepare('select id from items')
            .all()
            .map((row) => ({ ...row })),
          [{ id: 1 }],
        );
      } finally {
        after.close();
      }
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
