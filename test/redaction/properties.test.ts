import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Redactor } from '../../src/redaction/engine';
import { loadConfig } from '../../src/config';

const redactor = new Redactor(loadConfig({}).config);
const alnum = (min: number, max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9]{${min},${max}}$`));

// Generators of secrets in the shapes real ones have.
const secretArb = fc.oneof(
  alnum(36, 36).map((s) => `ghp_${s}`),
  fc.stringMatching(/^[0-9A-Z]{16}$/).map((s) => `AKIA${s}`),
  fc.tuple(alnum(10, 30), alnum(10, 40), alnum(20, 43)).map(([a, b, c]) => `eyJ${a}.eyJ${b}.${c}`),
  alnum(20, 40).map((s) => `sk-ant-api03-${s}`),
  alnum(24, 40).map((s) => `sk_live_${s}`),
  alnum(20, 30).map((s) => `glpat-${s}`),
  fc.tuple(alnum(3, 10), alnum(8, 20)).map(([u, p]) => `postgres://${u}:${p}@db.example.com:5432/app`),
);

// Random JSON-ish structures with the secret planted somewhere, at any depth up to 6.
function planted(secret: string): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
  const prefix = fc.string({ maxLength: 20 }).filter((s) => !/[A-Za-z0-9_:/@.-]$/.test(s));
  const suffix = fc.string({ maxLength: 20 }).filter((s) => !/^[A-Za-z0-9_:/@.=+-]/.test(s));
  const holder = fc.tuple(prefix, suffix).map(([p, s]) => `${p}${p === '' ? '' : ' '}${secret}${s === '' ? '' : ' '}${s}`);
  return fc.integer({ min: 0, max: 6 }).chain((depth) =>
    holder.chain((h) => {
      let arb: fc.Arbitrary<unknown> = fc.constant(h);
      for (let i = 0; i < depth; i++) {
        const inner = arb;
        arb = fc.oneof(
          fc.tuple(fc.array(leaf, { maxLength: 3 }), inner, fc.array(leaf, { maxLength: 3 })).map(([a, x, b]) => [...a, x, ...b]),
          fc.tuple(fc.dictionary(fc.string({ maxLength: 8 }), leaf, { maxKeys: 3 }), fc.stringMatching(/^[a-z]{1,8}$/), inner).map(([d, k, x]) => ({ ...d, [k]: x })),
        );
      }
      return arb;
    }),
  );
}

describe('redaction properties', () => {
  it('never lets a planted secret through, whatever the nesting and position', () => {
    fc.assert(
      fc.property(secretArb.chain((s) => fc.tuple(fc.constant(s), planted(s))), ([secret, value]) => {
        const out = JSON.stringify(redactor.redactValue(value as never, { n: 0 }));
        const rest = secret.slice('postgres://'.length);
        const core = secret.startsWith('postgres://') ? rest.slice(rest.indexOf(':') + 1, rest.indexOf('@')) : secret;
        expect(out).not.toContain(core);
      }),
      { numRuns: 400 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), secretArb.chain((s) => planted(s)), fc.jsonValue()), (v) => {
        const once = redactor.redactValue(v as never, { n: 0 });
        const twice = redactor.redactValue(once, { n: 0 });
        expect(twice).toEqual(once);
      }),
      { numRuns: 400 },
    );
  });

  it('never throws and never mutates its input', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 5 }), (v) => {
        let before: string | undefined;
        try {
          before = JSON.stringify(v);
        } catch {
          before = undefined;
        }
        expect(() => redactor.redactValue(v as never, { n: 0 })).not.toThrow();
        if (before !== undefined) expect(JSON.stringify(v)).toBe(before);
      }),
      { numRuns: 300 },
    );
  });
});
