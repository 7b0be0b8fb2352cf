import { isKw, Tok, tokenize, type Dialect, type Token } from './tokenizer';

export interface SqlAnalysis {
  /** SELECT, INSERT, UPDATE, DELETE, ... (upper case), the main statement's verb. */
  operation: string | undefined;
  /** The main table as written (schema-qualified if it was), quotes removed. */
  collection: string | undefined;
  /** Last segment of the table name, lower case: what TRIPLINE_SENSITIVE_TABLES is matched against. */
  table: string | undefined;
  /** Low-cardinality summary, e.g. "SELECT products". */
  summary: string | undefined;
  /** The statement with every literal replaced by ? and comments removed. */
  text: string;
  /** Columns assigned by UPDATE ... SET / ON CONFLICT DO UPDATE / ON DUPLICATE KEY UPDATE (lower case). */
  setColumns: string[];
  /** The statement changes data or schema. */
  isWrite: boolean;
  /** Static injection signatures found in the raw statement. */
  signatures: string[];
  tokens: Token[];
}

const WRITE_OPS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'REPLACE', 'UPSERT', 'CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'GRANT', 'REVOKE', 'RENAME', 'COPY', 'LOAD', 'CALL']);
const MAIN_VERBS = new Set(['select', 'insert', 'update', 'delete', 'merge', 'replace', 'upsert']);
const STACKED_VERBS = new Set(['drop', 'delete', 'insert', 'update', 'select', 'shutdown', 'exec', 'execute', 'create', 'alter', 'grant', 'truncate', 'declare', 'waitfor', 'copy', 'call', 'load', 'set', 'revoke', 'rename', 'replace', 'handler', 'do', 'union']);
const SLEEP_FUNCS = ['pg_sleep', 'pg_sleep_for', 'pg_sleep_until', 'sleep', 'benchmark', 'dbms_lock', 'dbms_pipe'];

const SPACED_BEFORE_PAREN = new Set(['in', 'values', 'as', 'on', 'using', 'exists', 'any', 'all', 'some', 'from', 'join', 'where', 'and', 'or', 'not', 'select', 'into', 'table', 'by', 'over', 'filter', 'within', 'when', 'then', 'else', 'case', 'set', 'with', 'union', 'lateral', 'returning', 'conflict', 'key', 'check', 'references']);
const TABLE_BEFORE = new Set(['into', 'table', 'join', 'from', 'update', 'exists', 'on']);
const DANGEROUS_AFTER_NUMBER = new Set(['drop', 'delete', 'insert', 'update', 'shutdown', 'exec', 'execute', 'grant', 'truncate', 'alter', 'create', 'waitfor', 'declare', 'copy', 'revoke']);
const text = (sql: string, t: Token): string => sql.slice(t.start, t.end);
const unquote = (s: string): string => (s.length >= 2 && (s[0] === '"' || s[0] === '`' || s[0] === '[') ? s.slice(1, -1) : s);

function literalValue(sql: string, t: Token): string | undefined {
  if (t.kind === Tok.Num) return text(sql, t);
  if (t.kind !== Tok.Str) return undefined;
  let s = text(sql, t);
  if (s[0] === 'E' || s[0] === 'e' || s[0] === 'N' || s[0] === 'n') s = s.slice(1);
  const q = s[0];
  return q === "'" || q === '"' ? s.slice(1, -1) : s;
}

/** Analyse one statement. Long statements are cut at maxLen for analysis (the record says so). */
export function analyzeSql(sql: string, dialect: Dialect, maxLen = 64 * 1024): SqlAnalysis {
  const src = sql.length > maxLen ? sql.slice(0, maxLen) : sql;
  const tokens = tokenize(src, dialect);
  const a: SqlAnalysis = { operation: undefined, collection: undefined, table: undefined, summary: undefined, text: '', setColumns: [], isWrite: false, signatures: [], tokens };
  a.text = normalize(src, tokens);
  findVerbAndTable(src, tokens, a);
  findAssignments(src, tokens, a);
  staticSignatures(src, tokens, a.signatures);
  return a;
}

function normalize(sql: string, tokens: Token[]): string {
  let out = '';
  let prev: Token | undefined;
  let prev2: Token | undefined;
  let inList = false; // inside IN ( ... ) collapsing
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind === Tok.Comment) continue;
    let piece: string;
    if (t.kind === Tok.Str || t.kind === Tok.Num) piece = '?';
    else piece = text(sql, t);
    // IN (?, ?, ?) -> IN (?)
    if (inList) {
      if (piece === ')') inList = false;
      else continue;
    } else if (piece === '(' && prev !== undefined && isKw(sql, prev, 'in')) {
      let j = i + 1;
      let allLits = true;
      let count = 0;
      while (j < tokens.length) {
        const u = tokens[j] as Token;
        const s = text(sql, u);
        if (s === ')') break;
        if (s !== ',' && u.kind !== Tok.Str && u.kind !== Tok.Num && u.kind !== Tok.Param) allLits = false;
        j++;
        count++;
      }
      if (allLits && count > 0) {
        out += ' (?';
        inList = true;
        prev = t;
        continue;
      }
    }
    const call = piece === '(' && prev !== undefined && prev.kind === Tok.Word && !SPACED_BEFORE_PAREN.has(text(sql, prev).toLowerCase()) && !(prev2 !== undefined && TABLE_BEFORE.has(text(sql, prev2).toLowerCase()));
    const noSpaceBefore = call || piece === ',' || piece === ')' || piece === '.' || piece === ';' || piece === '::' || piece === ']';
    const prevText = prev === undefined ? '' : prev.kind === Tok.Str || prev.kind === Tok.Num ? '?' : text(sql, prev);
    const noSpaceAfterPrev = prevText === '(' || prevText === '.' || prevText === '::' || prevText === '[';
    if (out.length > 0 && !noSpaceBefore && !noSpaceAfterPrev) out += ' ';
    out += piece;
    prev2 = prev;
    prev = t;
  }
  return out;
}

function readName(sql: string, tokens: Token[], i: number): { name: string; next: number } | undefined {
  let j = i;
  let name = '';
  for (;;) {
    const t = tokens[j];
    if (t === undefined || (t.kind !== Tok.Word && t.kind !== Tok.Ident)) break;
    name += unquote(text(sql, t));
    const dot = tokens[j + 1];
    if (dot !== undefined && text(sql, dot) === '.') {
      name += '.';
      j += 2;
      continue;
    }
    j++;
    break;
  }
  return name === '' || name.endsWith('.') ? undefined : { name, next: j };
}

function findVerbAndTable(sql: string, tokens: Token[], a: SqlAnalysis): void {
  let i = 0;
  while (i < tokens.length && ((tokens[i] as Token).kind === Tok.Comment || text(sql, tokens[i] as Token) === '(')) i++;
  const first = tokens[i];
  if (first === undefined || first.kind !== Tok.Word) return;
  let verbIdx = i;
  if (isKw(sql, first, 'with')) {
    // skip CTEs: the main verb is the first main verb at paren depth 0 after WITH
    let depth = 0;
    for (let j = i + 1; j < tokens.length; j++) {
      const s = text(sql, tokens[j] as Token);
      if (s === '(') depth++;
      else if (s === ')') depth--;
      else if (depth === 0 && (tokens[j] as Token).kind === Tok.Word && MAIN_VERBS.has(s.toLowerCase())) {
        verbIdx = j;
        break;
      }
    }
  }
  const verbTok = tokens[verbIdx] as Token;
  const verb = text(sql, verbTok).toUpperCase();
  a.operation = verb;
  a.isWrite = WRITE_OPS.has(verb);
  let j = verbIdx + 1;
  const skip = (...kws: string[]): void => {
    while (j < tokens.length && kws.some((k) => isKw(sql, tokens[j], k))) j++;
  };
  let target: { name: string; next: number } | undefined;
  switch (verb) {
    case 'SELECT': {
      let depth = 0;
      for (; j < tokens.length; j++) {
        const t = tokens[j] as Token;
        const s = text(sql, t);
        if (s === '(') depth++;
        else if (s === ')') depth--;
        else if (depth === 0 && isKw(sql, t, 'from')) {
          j++;
          skip('only', 'lateral');
          target = readName(sql, tokens, j);
          break;
        }
      }
      break;
    }
    case 'INSERT':
    case 'REPLACE':
    case 'UPSERT':
      skip('low_priority', 'delayed', 'high_priority', 'ignore', 'into', 'or', 'replace', 'abort', 'rollback', 'fail');
      target = readName(sql, tokens, j);
      break;
    case 'UPDATE':
      skip('low_priority', 'ignore', 'only');
      target = readName(sql, tokens, j);
      break;
    case 'DELETE':
      skip('low_priority', 'quick', 'ignore', 'from', 'only');
      target = readName(sql, tokens, j);
      break;
    case 'TRUNCATE':
      skip('table', 'only');
      target = readName(sql, tokens, j);
      break;
    case 'DROP':
    case 'ALTER':
    case 'CREATE':
      skip('or', 'replace', 'temporary', 'temp', 'unlogged', 'global', 'local');
      if (isKw(sql, tokens[j], 'table')) {
        j++;
        skip('if', 'not', 'exists', 'only');
        target = readName(sql, tokens, j);
      }
      break;
    default:
      break;
  }
  if (target !== undefined) {
    a.collection = target.name;
    const dot = target.name.lastIndexOf('.');
    a.table = (dot === -1 ? target.name : target.name.slice(dot + 1)).toLowerCase();
  }
  a.summary = a.collection !== undefined ? `${verb} ${a.collection}` : verb;
}

function findAssignments(sql: string, tokens: Token[], a: SqlAnalysis): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (!isKw(sql, t, 'set') && !(isKw(sql, t, 'update') && (isKw(sql, tokens[i - 1], 'key') || isKw(sql, tokens[i - 1], 'do')))) continue;
    if (isKw(sql, t, 'update') && isKw(sql, tokens[i + 1], 'set')) continue;
    // SET a = ..., b = ... until a clause keyword at depth 0
    let depth = 0;
    let expectCol = true;
    for (let j = i + 1; j < tokens.length; j++) {
      const u = tokens[j] as Token;
      const s = text(sql, u);
      if (s === '(') depth++;
      else if (s === ')') {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0) {
        if (s === ',') expectCol = true;
        else if (s === ';') break;
        else if (u.kind === Tok.Word && ['where', 'from', 'returning', 'order', 'limit', 'on'].includes(s.toLowerCase()) && !expectCol) break;
        else if (expectCol && (u.kind === Tok.Word || u.kind === Tok.Ident)) {
          const name = readName(sql, tokens, j);
          if (name !== undefined && text(sql, tokens[name.next] ?? u) === '=') {
            const col = name.name.slice(name.name.lastIndexOf('.') + 1).toLowerCase();
            if (!a.setColumns.includes(col)) a.setColumns.push(col);
            j = name.next;
          }
          expectCol = false;
        }
      }
    }
  }
}

function staticSignatures(sql: string, tokens: Token[], out: string[]): void {
  const add = (s: string): void => {
    if (!out.includes(s)) out.push(s);
  };
  const n = tokens.length;
  for (let i = 0; i < n; i++) {
    const t = tokens[i] as Token;
    const next = tokens[i + 1];
    // tautology: OR 'a'='a' / OR 1=1 / OR TRUE / OR 1 (end); AND 'a'='a' (string tautologies only)
    const isOr = isKw(sql, t, 'or') || text(sql, t) === '||' ;
    const isAnd = isKw(sql, t, 'and') || text(sql, t) === '&&';
    if ((isOr && t.kind === Tok.Word) || isAnd) {
      const l = tokens[i + 1];
      const op = tokens[i + 2];
      const r = tokens[i + 3];
      if (l !== undefined && op !== undefined && r !== undefined && (op.kind === Tok.Op || isKw(sql, op, 'like') || isKw(sql, op, 'is'))) {
        const lv = literalValue(sql, l);
        const rv = literalValue(sql, r);
        const opText = text(sql, op).toLowerCase();
        if (lv !== undefined && rv !== undefined && (opText === '=' || opText === 'like' || opText === '<=>' || opText === '==')) {
          const bothStr = l.kind === Tok.Str && r.kind === Tok.Str;
          if (lv === rv && (isOr || bothStr)) add('tautology');
        }
        if (isOr && lv !== undefined && rv !== undefined && opText === '<>' && lv !== rv) add('tautology');
      }
      if (isOr && next !== undefined && (isKw(sql, next, 'true') || (isKw(sql, next, 'not') && isKw(sql, tokens[i + 2], 'false')))) add('tautology');
      if (isOr && next !== undefined && next.kind === Tok.Num && Number(text(sql, next)) !== 0) {
        const after = tokens[i + 2];
        if (after === undefined || after.kind === Tok.Comment || text(sql, after) === ';' || text(sql, after) === ')') add('tautology');
      }
    }
    // comment truncation right after a string literal, ending the statement
    if (t.kind === Tok.Str && next !== undefined && next.kind === Tok.Comment) {
      const rest = tokens.slice(i + 2).filter((u) => u.kind !== Tok.Comment);
      if (rest.length === 0 || text(sql, rest[0] as Token) === ';') add('comment_truncation');
    }
    // an unterminated literal swallowed by a comment start: name = 'x'--' -> the Str ends, comment follows
    // stacked query after a string literal
    if (t.kind === Tok.Str && next !== undefined && text(sql, next) === ';') {
      const verb = tokens[i + 2];
      if (verb !== undefined && verb.kind === Tok.Word && STACKED_VERBS.has(text(sql, verb).toLowerCase())) add('stacked_query');
    }
    if (t.kind === Tok.Num && next !== undefined && text(sql, next) === ';') {
      const verb = tokens[i + 2];
      if (verb !== undefined && verb.kind === Tok.Word && DANGEROUS_AFTER_NUMBER.has(text(sql, verb).toLowerCase())) add('stacked_query');
    }
    // time-based probes
    if (t.kind === Tok.Word && next !== undefined && text(sql, next) === '(') {
      const w = text(sql, t).toLowerCase();
      if (SLEEP_FUNCS.includes(w)) add('time_based');
    }
    if (isKw(sql, t, 'waitfor') && (isKw(sql, next, 'delay') || isKw(sql, next, 'time'))) add('time_based');
    // UNION SELECT glued to a literal: ... = 'x' UNION SELECT ...
    if (isKw(sql, t, 'union')) {
      const prev = tokens[i - 1];
      let k = i + 1;
      if (isKw(sql, tokens[k], 'all') || isKw(sql, tokens[k], 'distinct')) k++;
      if (isKw(sql, tokens[k], 'select') && prev !== undefined && (prev.kind === Tok.Str || prev.kind === Tok.Num)) add('union_select');
    }
  }
}

/**
 * Request input that changed the statement's structure: a value from the HTTP request appears in the
 * statement and is not contained in a single literal (or a single token). This is what injection is,
 * whatever the payload; values that stay inside their literal are data.
 */
export function inputBreakout(sql: string, tokens: Token[], inputs: readonly string[]): boolean {
  for (const v of inputs) {
    if (v.length < 2 || v.length > 1000) continue;
    if (!/['"`;#\\]|--|\/\*|\b(or|and|union|select|sleep|benchmark|waitfor|drop|insert|update|delete)\b/i.test(v)) continue;
    let from = 0;
    for (let hits = 0; hits < 4; hits++) {
      const at = sql.indexOf(v, from);
      if (at === -1) break;
      from = at + 1;
      if (!withinOneToken(tokens, at, at + v.length)) return true;
    }
  }
  return false;
}

function withinOneToken(tokens: Token[], s: number, e: number): boolean {
  // binary search the token containing s
  let lo = 0;
  let hi = tokens.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = tokens[mid] as Token;
    if (t.end <= s) lo = mid + 1;
    else if (t.start > s) hi = mid - 1;
    else return e <= t.end;
  }
  return false; // s is in whitespace between tokens: the value starts outside any literal
}
