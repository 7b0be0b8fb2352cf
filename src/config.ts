/**
 * Every environment variable tripline reads, parsed and validated once at start.
 *
 * A bad value never stops the host app: we print one line naming the variable, the bad value and what
 * is accepted, and fall back to the default. With TRIPLINE_STRICT=true a bad value refuses to start
 * (start() throws a ConfigError before anything is patched).
 *
 * The same table drives `tripline doctor` and the README's variable list, so a variable exists in one
 * place only.
 */

export type HttpAccessLog = 'all' | 'errors' | 'none';
export type DbQueryLog = 'all' | 'writes' | 'errors' | 'none';
export type UserMode = 'identify' | 'anonymize' | 'off';
export type OtlpProtocol = 'http/protobuf' | 'http/json';
export type PiiClass = 'email' | 'card' | 'iban' | 'ssn' | 'phone' | 'ip';

export interface TriplineConfig {
  /** OTEL_SDK_DISABLED: the agent does nothing at all. */
  disabled: boolean;
  strict: boolean;
  serviceName: string | undefined;
  protocol: OtlpProtocol;
  /** OTEL_METRICS_EXPORTER: the agent's own counters as OTel metrics (otlp) or not at all (none). */
  metricsExporter: 'otlp' | 'none';
  /** OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL. */
  metricsProtocol: OtlpProtocol;
  /** OTEL_METRIC_EXPORT_INTERVAL in ms (default 60000). */
  metricsIntervalMs: number;
  httpAccessLog: HttpAccessLog;
  /** Parsed TRIPLINE_TRUSTED_PROXIES (CIDRs, addresses, or the keywords loopback/private/uniquelocal). */
  trustedProxies: readonly string[];
  userMode: UserMode;
  loginRoutes: readonly string[];
  loginUserFields: readonly string[];
  adminRoutes: readonly string[];
  adminRoles: readonly string[];
  hashKey: string | undefined;
  redactKeys: readonly string[];
  redactPatterns: readonly string[];
  redactAllow: readonly string[];
  redactPii: readonly PiiClass[];
  dbQueryLog: DbQueryLog;
  sensitiveTables: readonly string[];
  roleColumns: readonly string[];
  bulkReadRows: number;
  spoolDir: string | undefined;
  spoolMaxBytes: number;
  shutdownTimeoutMs: number;
  heartbeatIntervalMs: number;
  integrityKey: string | undefined;
  integrityKeyFile: string | undefined;
  signingKeyFile: string | undefined;
  checkpointIntervalMs: number;
  mcpCommandTools: readonly string[];
  mcpAllowedRoots: readonly string[];
  instrumentations: readonly string[];
  disabledInstrumentations: readonly string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`tripline: invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

interface Spec<K extends keyof TriplineConfig> {
  env: string;
  key: K;
  default: TriplineConfig[K];
  /** What is accepted, for the error line and the docs. */
  accepts: string;
  doc: string;
  parse: (raw: string) => TriplineConfig[K] | undefined;
}

const bool = (raw: string): boolean | undefined => {
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes' || v === 'on') return true;
  if (v === 'false' || v === '0' || v === 'no' || v === 'off' || v === '') return false;
  return undefined;
};

const oneOf =
  <T extends string>(values: readonly T[]) =>
  (raw: string): T | undefined => {
    const v = raw.trim().toLowerCase();
    return (values as readonly string[]).includes(v) ? (v as T) : undefined;
  };

/** Names TRIPLINE_INSTRUMENTATIONS / TRIPLINE_DISABLED_INSTRUMENTATIONS accept (src/instrumentations/index.ts). */
export const INSTRUMENTATION_NAMES: readonly string[] = ['http', 'express', 'koa', 'fastify', 'login-routes', 'admin', 'http-attacks', 'passport', 'express-session', 'jsonwebtoken', 'jose', 'pg', 'mysql2', 'mysql', 'ioredis', 'mcp'];

const list = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const intIn =
  (min: number, max: number) =>
  (raw: string): number | undefined => {
    const t = raw.trim();
    if (!/^\d+$/.test(t)) return undefined;
    const n = Number(t);
    return n >= min && n <= max ? n : undefined;
  };

const nonEmpty = (raw: string): string | undefined => (raw.trim() === '' ? undefined : raw.trim());

const PII_CLASSES: readonly PiiClass[] = ['email', 'card', 'iban', 'ssn', 'phone', 'ip'];

function ipOrCidrOrKeyword(s: string): boolean {
  if (s === 'loopback' || s === 'private' || s === 'uniquelocal' || s === 'linklocal') return true;
  const [addr, bits, extra] = s.split('/');
  if (extra !== undefined || addr === undefined) return false;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  const isV4 = v4 !== null && v4.slice(1).every((o) => Number(o) <= 255);
  const isV6 = !isV4 && /^[0-9a-f:.]+$/i.test(addr) && addr.includes(':');
  if (!isV4 && !isV6) return false;
  if (bits === undefined) return true;
  if (!/^\d+$/.test(bits)) return false;
  return Number(bits) <= (isV4 ? 32 : 128);
}

function listOf(valid: (s: string) => boolean) {
  return (raw: string): string[] | undefined => {
    const items = list(raw);
    return items.every(valid) ? items : undefined;
  };
}

/** Every variable, in the order the README documents them. */
export const SPECS = [
  {
    env: 'TRIPLINE_STRICT',
    key: 'strict',
    default: false,
    accepts: 'true or false',
    doc: 'Refuse to start on any invalid variable instead of warning and using the default.',
    parse: bool,
  } satisfies Spec<'strict'>,
  {
    env: 'TRIPLINE_HTTP_ACCESS_LOG',
    key: 'httpAccessLog',
    default: 'errors',
    accepts: 'all, errors or none',
    doc: 'Which HTTP access records (http.server.request / http.client.request) to ship: every request, only 4xx/5xx and failed ones, or none. Security events are always shipped.',
    parse: oneOf<HttpAccessLog>(['all', 'errors', 'none']),
  } satisfies Spec<'httpAccessLog'>,
  {
    env: 'TRIPLINE_TRUSTED_PROXIES',
    key: 'trustedProxies',
    default: [],
    accepts: 'comma-separated IP addresses or CIDRs, or loopback, private, uniquelocal, linklocal',
    doc: 'Proxies whose X-Forwarded-For entries are believed. client.address is the right-most X-Forwarded-For entry that is not a trusted proxy; with none set, it is the socket peer.',
    parse: listOf(ipOrCidrOrKeyword),
  } satisfies Spec<'trustedProxies'>,
  {
    env: 'TRIPLINE_USER_MODE',
    key: 'userMode',
    default: 'identify',
    accepts: 'identify, anonymize or off',
    doc: 'identify: user names and ids in clear; anonymize: a keyed hash (TRIPLINE_HASH_KEY) that stays stable so detection still correlates; off: no user attributes.',
    parse: oneOf<UserMode>(['identify', 'anonymize', 'off']),
  } satisfies Spec<'userMode'>,
  {
    env: 'TRIPLINE_LOGIN_ROUTES',
    key: 'loginRoutes',
    default: ['POST /login', 'POST /signin', 'POST /auth/login', 'POST /api/*/login', 'POST /api/login', 'POST /session', 'POST /sessions', 'POST /users/sign_in'],
    accepts: 'comma-separated "METHOD /path" patterns, * matches one path segment, ** any number',
    doc: 'Hand-written login routes whose outcome becomes a login success/failure record.',
    parse: listOf((s) => /^([A-Z]+ )?\/\S*$/.test(s)),
  } satisfies Spec<'loginRoutes'>,
  {
    env: 'TRIPLINE_LOGIN_USER_FIELDS',
    key: 'loginUserFields',
    default: ['username', 'email', 'login', 'user', 'userName'],
    accepts: 'comma-separated body field names',
    doc: 'Body fields (JSON or form) read for the attempted user name on login routes.',
    parse: (raw) => (list(raw).length > 0 ? list(raw) : undefined),
  } satisfies Spec<'loginUserFields'>,
  {
    env: 'TRIPLINE_ADMIN_ROUTES',
    key: 'adminRoutes',
    default: ['/admin', '/admin/**', '/api/admin/**'],
    accepts: 'comma-separated "[METHOD ]/path" patterns, * matches one path segment, ** any number',
    doc: 'Requests to these routes produce a security.authz_admin record.',
    parse: listOf((s) => /^([A-Z]+ )?\/\S*$/.test(s)),
  } satisfies Spec<'adminRoutes'>,
  {
    env: 'TRIPLINE_ADMIN_ROLES',
    key: 'adminRoles',
    default: ['admin', 'administrator', 'root', 'superuser'],
    accepts: 'comma-separated role names',
    doc: 'Any request by a user holding one of these roles produces a security.authz_admin record.',
    parse: (raw) => list(raw),
  } satisfies Spec<'adminRoles'>,
  {
    env: 'TRIPLINE_HASH_KEY',
    key: 'hashKey',
    default: undefined,
    accepts: 'a secret of at least 16 characters',
    doc: 'Key for the keyed hashes (HMAC-SHA256) of session ids, token ids and, in anonymize mode, users. Unset: a random key per process (hashes then do not correlate across restarts).',
    parse: (raw) => (raw.length >= 16 ? raw : undefined),
  } satisfies Spec<'hashKey'>,
  {
    env: 'TRIPLINE_REDACT_KEYS',
    key: 'redactKeys',
    default: [],
    accepts: 'comma-separated key names (case and separator insensitive)',
    doc: 'Extra attribute, header, query and body keys whose values are always redacted.',
    parse: (raw) => list(raw),
  } satisfies Spec<'redactKeys'>,
  {
    env: 'TRIPLINE_REDACT_PATTERNS',
    key: 'redactPatterns',
    default: [],
    accepts: 'comma-separated name=regex pairs (e.g. acme_key=ACME-[0-9A-F]{32}); regexes must compile',
    doc: 'Extra value patterns; a match is replaced by [REDACTED:name].',
    parse: (raw) => {
      const items = list(raw);
      for (const item of items) {
        const eq = item.indexOf('=');
        if (eq <= 0) return undefined;
        try {
          new RegExp(item.slice(eq + 1));
        } catch {
          return undefined;
        }
      }
      return items;
    },
  } satisfies Spec<'redactPatterns'>,
  {
    env: 'TRIPLINE_REDACT_ALLOW',
    key: 'redactAllow',
    default: [],
    accepts: 'comma-separated key names or rule names to exempt from redaction',
    doc: 'Keys (or built-in rule names such as email) that are never redacted.',
    parse: (raw) => list(raw),
  } satisfies Spec<'redactAllow'>,
  {
    env: 'TRIPLINE_REDACT_PII',
    key: 'redactPii',
    default: ['email', 'card', 'iban', 'ssn'],
    accepts: `comma-separated subset of ${PII_CLASSES.join(', ')}, or none`,
    doc: 'Which classes of personal data in free text are redacted (secrets always are).',
    parse: (raw) => {
      if (raw.trim().toLowerCase() === 'none') return [];
      const items = list(raw.toLowerCase());
      return items.every((i) => (PII_CLASSES as readonly string[]).includes(i)) ? (items as PiiClass[]) : undefined;
    },
  } satisfies Spec<'redactPii'>,
  {
    env: 'TRIPLINE_DB_QUERY_LOG',
    key: 'dbQueryLog',
    default: 'writes',
    accepts: 'all, writes, errors or none',
    doc: 'Which db.client.query records to ship. Security events from queries are always shipped.',
    parse: oneOf<DbQueryLog>(['all', 'writes', 'errors', 'none']),
  } satisfies Spec<'dbQueryLog'>,
  {
    env: 'TRIPLINE_SENSITIVE_TABLES',
    key: 'sensitiveTables',
    default: ['users', 'accounts', 'roles', 'permissions', 'payments'],
    accepts: 'comma-separated table names',
    doc: 'Writes to these tables are security.sensitive_create/update/delete; large reads are security.sensitive_read.',
    parse: (raw) => list(raw.toLowerCase()),
  } satisfies Spec<'sensitiveTables'>,
  {
    env: 'TRIPLINE_ROLE_COLUMNS',
    key: 'roleColumns',
    default: ['role', 'roles', 'is_admin', 'permissions', 'balance', 'password', 'password_hash'],
    accepts: 'comma-separated column names',
    doc: 'An UPDATE that sets one of these columns is security.authz_change.',
    parse: (raw) => list(raw.toLowerCase()),
  } satisfies Spec<'roleColumns'>,
  {
    env: 'TRIPLINE_BULK_READ_ROWS',
    key: 'bulkReadRows',
    default: 100,
    accepts: 'an integer from 1 to 100000000',
    doc: 'A read from a sensitive table returning more rows than this is security.sensitive_read.',
    parse: intIn(1, 100_000_000),
  } satisfies Spec<'bulkReadRows'>,
  {
    env: 'TRIPLINE_SPOOL_DIR',
    key: 'spoolDir',
    default: undefined,
    accepts: 'a writable directory path',
    doc: 'Where records wait on disk while the collector is unreachable. Unset: <os tmpdir>/tripline-spool/<service name>.',
    parse: nonEmpty,
  } satisfies Spec<'spoolDir'>,
  {
    env: 'TRIPLINE_SPOOL_MAX_BYTES',
    key: 'spoolMaxBytes',
    default: 64 * 1024 * 1024,
    accepts: 'an integer number of bytes from 1048576 to 68719476736',
    doc: 'Size cap of the on-disk spool; past it, the oldest low-severity records are dropped (and counted) first.',
    parse: intIn(1024 * 1024, 64 * 1024 * 1024 * 1024),
  } satisfies Spec<'spoolMaxBytes'>,
  {
    env: 'TRIPLINE_SHUTDOWN_TIMEOUT_MS',
    key: 'shutdownTimeoutMs',
    default: 5000,
    accepts: 'an integer from 100 to 120000',
    doc: 'How long shutdown (SIGTERM, SIGINT, beforeExit) may spend delivering or spooling what is buffered.',
    parse: intIn(100, 120_000),
  } satisfies Spec<'shutdownTimeoutMs'>,
  {
    env: 'TRIPLINE_HEARTBEAT_INTERVAL_MS',
    key: 'heartbeatIntervalMs',
    default: 30_000,
    accepts: 'an integer from 1000 to 3600000, or 0 to disable',
    doc: 'Interval of the security.sys_monitor heartbeat carrying the delivery counters.',
    parse: (raw) => (raw.trim() === '0' ? 0 : intIn(1000, 3_600_000)(raw)),
  } satisfies Spec<'heartbeatIntervalMs'>,
  {
    env: 'TRIPLINE_INTEGRITY_KEY',
    key: 'integrityKey',
    default: undefined,
    accepts: 'a secret of at least 32 characters',
    doc: 'Turns on the tamper-evident chain (sequence number + chained HMAC-SHA256 on every record). Unset: off, with a warning at start.',
    parse: (raw) => (raw.length >= 32 ? raw : undefined),
  } satisfies Spec<'integrityKey'>,
  {
    env: 'TRIPLINE_INTEGRITY_KEY_FILE',
    key: 'integrityKeyFile',
    default: undefined,
    accepts: 'a readable file path',
    doc: 'File holding the integrity key (instead of TRIPLINE_INTEGRITY_KEY).',
    parse: nonEmpty,
  } satisfies Spec<'integrityKeyFile'>,
  {
    env: 'TRIPLINE_SIGNING_KEY_FILE',
    key: 'signingKeyFile',
    default: undefined,
    accepts: 'a readable PEM file with an Ed25519 private key',
    doc: 'Signs checkpoint records so a third party can verify the chain without being able to forge it.',
    parse: nonEmpty,
  } satisfies Spec<'signingKeyFile'>,
  {
    env: 'TRIPLINE_CHECKPOINT_INTERVAL_MS',
    key: 'checkpointIntervalMs',
    default: 60_000,
    accepts: 'an integer from 1000 to 3600000',
    doc: 'Interval of integrity checkpoint records (also sent when idle).',
    parse: intIn(1000, 3_600_000),
  } satisfies Spec<'checkpointIntervalMs'>,
  {
    env: 'TRIPLINE_MCP_COMMAND_TOOLS',
    key: 'mcpCommandTools',
    default: [],
    accepts: 'comma-separated MCP tool names',
    doc: 'MCP tools that run commands: shell metacharacters in their arguments are security.malicious_cmdi.',
    parse: (raw) => list(raw),
  } satisfies Spec<'mcpCommandTools'>,
  {
    env: 'TRIPLINE_MCP_ALLOWED_ROOTS',
    key: 'mcpAllowedRoots',
    default: [],
    accepts: 'comma-separated absolute paths',
    doc: 'Absolute paths in MCP tool arguments outside these roots are security.malicious_path_traversal. Unset: only ../ traversal is checked.',
    parse: listOf((s) => s.startsWith('/') || /^[A-Za-z]:[\\/]/.test(s)),
  } satisfies Spec<'mcpAllowedRoots'>,
  {
    env: 'TRIPLINE_INSTRUMENTATIONS',
    key: 'instrumentations',
    default: [],
    accepts: `comma-separated instrumentation names (${INSTRUMENTATION_NAMES.join(', ')}); empty means all`,
    doc: 'Only enable these instrumentations.',
    parse: (raw) => listOf((s) => INSTRUMENTATION_NAMES.includes(s))(raw.toLowerCase()),
  } satisfies Spec<'instrumentations'>,
  {
    env: 'TRIPLINE_DISABLED_INSTRUMENTATIONS',
    key: 'disabledInstrumentations',
    default: [],
    accepts: `comma-separated instrumentation names (${INSTRUMENTATION_NAMES.join(', ')})`,
    doc: 'Disable these instrumentations.',
    parse: (raw) => listOf((s) => INSTRUMENTATION_NAMES.includes(s))(raw.toLowerCase()),
  } satisfies Spec<'disabledInstrumentations'>,
] as const;

export interface LoadResult {
  config: TriplineConfig;
  /** One line per invalid variable (already printed unless quiet). */
  problems: string[];
}

function describe(raw: string): string {
  const shown = raw.length > 60 ? `${raw.slice(0, 57)}...` : raw;
  return JSON.stringify(shown);
}

/** A signal's OTLP protocol: its own variable, else OTEL_EXPORTER_OTLP_PROTOCOL; a bad value is reported. */
function otlpProtocol(env: Env, specific: string, problems: string[]): OtlpProtocol {
  const raw = env[specific] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (raw === undefined || raw.trim() === '') return 'http/protobuf';
  const p = raw.trim().toLowerCase();
  if (p === 'http/protobuf' || p === 'http/json') return p;
  const name = env[specific] !== undefined ? specific : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  problems.push(
    `tripline: ${name}=${describe(raw)} is not supported; accepted: http/protobuf or http/json${p === 'grpc' ? ' (tripline ships over OTLP/HTTP only; the collector listens on both)' : ''}. Using the default (http/protobuf).`,
  );
  return 'http/protobuf';
}

/**
 * Parse the environment. Never throws unless TRIPLINE_STRICT is on (then ConfigError).
 * Values of secret-bearing variables are never echoed back.
 */
export function loadConfig(env: Env = process.env, opts: { quiet?: boolean } = {}): LoadResult {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const spec of SPECS) {
    const raw = env[spec.env];
    if (raw === undefined || raw === '') {
      out[spec.key] = spec.default;
      continue;
    }
    let parsed: unknown;
    try {
      parsed = (spec.parse as (r: string) => unknown)(raw);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined) {
      const secret = /KEY|SECRET/.test(spec.env);
      problems.push(
        `tripline: ${spec.env}=${secret ? '<hidden>' : describe(raw)} is invalid; accepted: ${spec.accepts}. Using the default (${JSON.stringify(spec.default) ?? 'unset'}).`,
      );
      out[spec.key] = spec.default;
    } else {
      out[spec.key] = parsed;
    }
  }

  // Standard OpenTelemetry variables that decide what the agent builds.
  const disabledRaw = env.OTEL_SDK_DISABLED;
  let disabled = false;
  if (disabledRaw !== undefined && disabledRaw !== '') {
    const b = bool(disabledRaw);
    if (b === undefined) problems.push(`tripline: OTEL_SDK_DISABLED=${describe(disabledRaw)} is invalid; accepted: true or false. Using the default (false).`);
    else disabled = b;
  }
  const protocol = otlpProtocol(env, 'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL', problems);
  let metricsExporter: 'otlp' | 'none' = 'otlp';
  const mx = env.OTEL_METRICS_EXPORTER?.trim().toLowerCase();
  if (mx !== undefined && mx !== '') {
    if (mx === 'none' || mx === 'otlp') metricsExporter = mx;
    else problems.push(`tripline: OTEL_METRICS_EXPORTER=${describe(env.OTEL_METRICS_EXPORTER ?? '')} is not supported; accepted: otlp or none. Using the default (otlp).`);
  }
  // the general variable's problem, if any, was reported once above
  const metricsProtocol = otlpProtocol(env, 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL !== undefined ? problems : []);
  let metricsIntervalMs = 60_000;
  const mi = env.OTEL_METRIC_EXPORT_INTERVAL?.trim();
  if (mi !== undefined && mi !== '') {
    if (/^\d+$/.test(mi) && Number(mi) >= 100) metricsIntervalMs = Number(mi);
    else problems.push(`tripline: OTEL_METRIC_EXPORT_INTERVAL=${describe(mi)} is invalid; accepted: milliseconds, at least 100. Using the default (60000).`);
  }
  for (const name of ['OTEL_EXPORTER_OTLP_COMPRESSION', 'OTEL_EXPORTER_OTLP_LOGS_COMPRESSION']) {
    const v = env[name];
    if (v !== undefined && v !== '' && v !== 'gzip' && v !== 'none') {
      problems.push(`tripline: ${name}=${describe(v)} is invalid; accepted: gzip or none. Using the exporter default.`);
    }
  }
  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']) {
    const v = env[name];
    if (v !== undefined && v !== '') {
      let ok = false;
      try {
        const u = new URL(v);
        ok = u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        ok = false;
      }
      if (!ok) problems.push(`tripline: ${name}=${describe(v)} is invalid; accepted: an http:// or https:// URL. Using the default (http://localhost:4318).`);
    }
  }

  const config = {
    ...(out as unknown as TriplineConfig),
    disabled,
    protocol,
    metricsExporter,
    metricsProtocol,
    metricsIntervalMs,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || undefined,
  };
  return { config, problems };
}
