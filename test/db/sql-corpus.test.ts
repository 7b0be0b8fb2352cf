import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSql, inputBreakout } from '../../src/sql/analyze';
import type { Dialect } from '../../src/sql/tokenizer';

function corpus(name: string): Array<{ sql: string; dialect: Dialect }> {
  return readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => (l.startsWith('mysql: ') ? { sql: l.slice(7), dialect: 'mysql' as const } : { sql: l, dialect: 'postgresql' as const }));
}

describe('SQL injection signatures against corpora', () => {
  it('raise nothing on ordinary ORM, builder, migration and hand-written statements (false-positive rate 0)', () => {
    const benign = corpus('sql-benign.txt');
    expect(benign.length).toBeGreaterThan(100);
    const flagged = benign.filter((q) => analyzeSql(q.sql, q.dialect).signatures.length > 0).map((q) => `${q.sql} -> ${analyzeSql(q.sql, q.dialect).signatures.join(',')}`);
    expect(flagged).toEqual([]);
  });

  it('flag every statement of the attack corpus (detection rate 100%)', () => {
    const attacks = corpus('sql-attacks.txt');
    const missed = attacks.filter((q) => analyzeSql(q.sql, q.dialect).signatures.length === 0).map((q) => q.sql);
    expect(missed).toEqual([]);
  });

  it('input breakout: a request value that leaves its literal is caught; one that stays inside is not', () => {
    const cases: Array<[string, string, boolean]> = [
      ["SELECT * FROM p WHERE c = 'x' OR 'y'='y'", "x' OR 'y'='y", true],
      ['SELECT * FROM p WHERE id = 3 OR 2>1', '3 OR 2>1', true],
      ["SELECT * FROM p WHERE c = 'it''s; ok -- fine'", "it''s; ok -- fine", false],
      ["SELECT * FROM p WHERE c = 'union select'", 'union select', false],
      ['SELECT * FROM p WHERE id = 42', '42', false],
    ];
    for (const [sql, input, expected] of cases) expect([sql, inputBreakout(sql, analyzeSql(sql, 'postgresql').tokens, [input])]).toEqual([sql, expected]);
  });

  it('strips every literal and keeps the statement readable', () => {
    const a = analyzeSql("SELECT * FROM t WHERE a = 'secret-1' AND b = 42 AND c IN (1, 2, 3) AND d = E'x\\'y' AND e = $$z$$", 'postgresql');
    expect(a.text).toBe('SELECT * FROM t WHERE a = ? AND b = ? AND c IN (?) AND d = ? AND e = ?');
    const m = analyzeSql("INSERT INTO `t` (a, b) VALUES ('s3cr3t', \"also\") # note", 'mysql');
    expect(m.text).toBe('INSERT INTO `t` (a, b) VALUES (?, ?)');
    expect(m.text).not.toContain('note');
  });
});
