/**
 * A linear, allocation-light SQL tokenizer covering PostgreSQL and MySQL/MariaDB lexical rules well
 * enough to strip literals and to see where literals begin and end. No regular expressions on the
 * statement, no backtracking: one pass, each character looked at a bounded number of times.
 */
export const enum Tok {
  Word = 1, // keyword or bare identifier
  Ident = 2, // quoted identifier ("x" in PostgreSQL, `x`)
  Str = 3, // string literal ('..', E'..', $$..$$, "..." in MySQL)
  Num = 4, // numeric literal (incl. hex 0x.., x'..', b'..')
  Param = 5, // $1, ?, :name, @name
  Op = 6, // operators and punctuation
  Comment = 7,
}

export interface Token {
  kind: Tok;
  start: number;
  end: number;
}

export type Dialect = 'postgresql' | 'mysql';

const isWordStart = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c > 127;
const isWord = (c: number): boolean => isWordStart(c) || (c >= 48 && c <= 57) || c === 36;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;

/** Tokenize; `maxTokens` bounds work on huge statements (the rest is one trailing token). */
export function tokenize(sql: string, dialect: Dialect, maxTokens = 20_000): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  while (i < n) {
    if (out.length >= maxTokens) {
      out.push({ kind: Tok.Op, start: i, end: n });
      break;
    }
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    // comments
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      i = lineEnd(sql, i);
      out.push({ kind: Tok.Comment, start, end: i });
      continue;
    }
    if (c === 35 && dialect === 'mysql') {
      i = lineEnd(sql, i);
      out.push({ kind: Tok.Comment, start, end: i });
      continue;
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const close = sql.indexOf('*/', i + 2);
      i = close === -1 ? n : close + 2;
      out.push({ kind: Tok.Comment, start, end: i });
      continue;
    }
    // string literals, with prefixes E'..' N'..' B'..' X'..' U&'..' _utf8'..'
    if (c === 39) {
      i = quoted(sql, i, 39, dialect === 'mysql');
      out.push({ kind: Tok.Str, start, end: i });
      continue;
    }
    if ((c === 69 || c === 101) && sql.charCodeAt(i + 1) === 39) {
      i = quoted(sql, i + 1, 39, true);
      out.push({ kind: Tok.Str, start, end: i });
      continue;
    }
    if ((c === 78 || c === 110 || c === 66 || c === 98 || c === 88 || c === 120) && sql.charCodeAt(i + 1) === 39) {
      i = quoted(sql, i + 1, 39, dialect === 'mysql');
      out.push({ kind: c === 78 || c === 110 ? Tok.Str : Tok.Num, start, end: i });
      continue;
    }
    if (c === 34) {
      // "..." is an identifier in PostgreSQL (and ANSI mode), a string in default MySQL
      i = quoted(sql, i, 34, dialect === 'mysql');
      out.push({ kind: dialect === 'mysql' ? Tok.Str : Tok.Ident, start, end: i });
      continue;
    }
    if (c === 96) {
      i = quoted(sql, i, 96, false);
      out.push({ kind: Tok.Ident, start, end: i });
      continue;
    }
    // $1 parameters and $tag$ dollar quoting (PostgreSQL)
    if (c === 36) {
      if (isDigit(sql.charCodeAt(i + 1))) {
        i++;
        while (i < n && isDigit(sql.charCodeAt(i))) i++;
        out.push({ kind: Tok.Param, start, end: i });
        continue;
      }
      let j = i + 1;
      while (j < n && isWord(sql.charCodeAt(j)) && sql.charCodeAt(j) !== 36) j++;
      if (sql.charCodeAt(j) === 36) {
        const tag = sql.slice(i, j + 1);
        const close = sql.indexOf(tag, j + 1);
        i = close === -1 ? n : close + tag.length;
        out.push({ kind: Tok.Str, start, end: i });
        continue;
      }
    }
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      if (c === 48 && (sql.charCodeAt(i + 1) === 120 || sql.charCodeAt(i + 1) === 88)) {
        i += 2;
        while (i < n && /[0-9a-fA-F]/.test(sql[i] as string)) i++;
      } else {
        while (i < n && (isDigit(sql.charCodeAt(i)) || sql.charCodeAt(i) === 46)) i++;
        const e = sql.charCodeAt(i);
        if ((e === 101 || e === 69) && (isDigit(sql.charCodeAt(i + 1)) || ((sql.charCodeAt(i + 1) === 43 || sql.charCodeAt(i + 1) === 45) && isDigit(sql.charCodeAt(i + 2))))) {
          i += 2;
          while (i < n && isDigit(sql.charCodeAt(i))) i++;
        }
      }
      // 1abc is an identifier in MySQL; treat a digit-led word as a word
      if (i < n && isWordStart(sql.charCodeAt(i))) {
        while (i < n && isWord(sql.charCodeAt(i))) i++;
        out.push({ kind: Tok.Word, start, end: i });
      } else out.push({ kind: Tok.Num, start, end: i });
      continue;
    }
    if (isWordStart(c)) {
      while (i < n && isWord(sql.charCodeAt(i))) i++;
      out.push({ kind: Tok.Word, start, end: i });
      continue;
    }
    if (c === 63) {
      // ? placeholder (also the jsonb ?| ?& operators when followed by | or &)
      const d = sql.charCodeAt(i + 1);
      i += d === 124 || d === 38 ? 2 : 1;
      out.push({ kind: d === 124 || d === 38 ? Tok.Op : Tok.Param, start, end: i });
      continue;
    }
    if ((c === 58 && isWordStart(sql.charCodeAt(i + 1)) && sql.charCodeAt(i - 1) !== 58) || (c === 64 && isWordStart(sql.charCodeAt(i + 1)))) {
      i++;
      while (i < n && isWord(sql.charCodeAt(i))) i++;
      out.push({ kind: Tok.Param, start, end: i });
      continue;
    }
    // operators: group runs of operator characters, punctuation alone
    if (c === 40 || c === 41 || c === 44 || c === 59 || c === 46 || c === 91 || c === 93) {
      i++;
      out.push({ kind: Tok.Op, start, end: i });
      continue;
    }
    i++;
    while (i < n && '+-*/<>=~!@#%^&|`?:'.includes(sql[i] as string) && !(sql.charCodeAt(i) === 45 && sql.charCodeAt(i + 1) === 45) && !(sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42)) i++;
    out.push({ kind: Tok.Op, start, end: i });
  }
  return out;
}

function lineEnd(sql: string, i: number): number {
  const nl = sql.indexOf('\n', i);
  return nl === -1 ? sql.length : nl;
}

/** Index just past the closing quote; unterminated literals run to the end. */
function quoted(sql: string, i: number, q: number, backslashEscapes: boolean): number {
  const n = sql.length;
  let j = i + 1;
  while (j < n) {
    const c = sql.charCodeAt(j);
    if (backslashEscapes && c === 92) {
      j += 2;
      continue;
    }
    if (c === q) {
      if (sql.charCodeAt(j + 1) === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return n;
}

/** Keyword test without allocating: compares the token text case-insensitively with a lower-case kw. */
export function isKw(sql: string, t: Token | undefined, kw: string): boolean {
  if (t === undefined || t.kind !== Tok.Word || t.end - t.start !== kw.length) return false;
  for (let k = 0; k < kw.length; k++) {
    const a = sql.charCodeAt(t.start + k);
    if ((a >= 65 && a <= 90 ? a + 32 : a) !== kw.charCodeAt(k)) return false;
  }
  return true;
}
