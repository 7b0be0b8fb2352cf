import { SeverityNumber } from '@opentelemetry/api-logs';

/**
 * The event vocabulary: OWASP Application Security Logging Vocabulary names, namespaced `security.`,
 * plus the non-OWASP records the agent ships. Severity follows the vocabulary's level
 * (INFO, WARN, CRITICAL -> ERROR/FATAL).
 */
export type Category =
  | 'authn'
  | 'authz'
  | 'session'
  | 'input'
  | 'malicious'
  | 'sensitive'
  | 'user'
  | 'excess'
  | 'sys'
  | 'privilege'
  | 'mcp'
  | 'http'
  | 'db';

export interface EventDef {
  readonly severity: SeverityNumber;
  readonly category: Category;
}

const I = SeverityNumber.INFO;
const W = SeverityNumber.WARN;
const E = SeverityNumber.ERROR;
const F = SeverityNumber.FATAL;

export const EVENTS = {
  'security.authn_login_success': { severity: I, category: 'authn' },
  'security.authn_login_successafterfail': { severity: I, category: 'authn' },
  'security.authn_login_fail': { severity: W, category: 'authn' },
  'security.authn_login_fail_max': { severity: W, category: 'authn' },
  'security.authn_login_lock': { severity: W, category: 'authn' },
  'security.authn_logout': { severity: I, category: 'authn' },
  'security.authn_password_change': { severity: I, category: 'authn' },
  'security.authn_password_change_fail': { severity: E, category: 'authn' },
  'security.authn_impossible_travel': { severity: E, category: 'authn' },
  'security.authn_token_created': { severity: I, category: 'authn' },
  'security.authn_token_revoked': { severity: I, category: 'authn' },
  'security.authn_token_reuse': { severity: E, category: 'authn' },
  'security.authn_token_invalid': { severity: W, category: 'authn' },
  'security.authn_token_delete': { severity: W, category: 'authn' },
  'security.authz_fail': { severity: E, category: 'authz' },
  'security.authz_change': { severity: W, category: 'authz' },
  'security.authz_admin': { severity: W, category: 'authz' },
  'security.privilege_permissions_changed': { severity: W, category: 'privilege' },
  'security.session_created': { severity: I, category: 'session' },
  'security.session_renewed': { severity: I, category: 'session' },
  'security.session_expired': { severity: I, category: 'session' },
  'security.session_destroyed': { severity: I, category: 'session' },
  'security.session_use_after_expire': { severity: E, category: 'session' },
  'security.excess_rate_limit_exceeded': { severity: W, category: 'excess' },
  'security.input_validation_fail': { severity: W, category: 'input' },
  'security.input_validation_discrete_fail': { severity: W, category: 'input' },
  'security.malicious_sqli': { severity: F, category: 'malicious' },
  'security.malicious_xss': { severity: E, category: 'malicious' },
  'security.malicious_path_traversal': { severity: E, category: 'malicious' },
  'security.malicious_cmdi': { severity: F, category: 'malicious' },
  'security.malicious_extraneous': { severity: E, category: 'malicious' },
  'security.malicious_attack_tool': { severity: E, category: 'malicious' },
  'security.sensitive_create': { severity: W, category: 'sensitive' },
  'security.sensitive_read': { severity: W, category: 'sensitive' },
  'security.sensitive_update': { severity: W, category: 'sensitive' },
  'security.sensitive_delete': { severity: W, category: 'sensitive' },
  'security.user_created': { severity: W, category: 'user' },
  'security.user_updated': { severity: W, category: 'user' },
  'security.user_archived': { severity: W, category: 'user' },
  'security.user_deleted': { severity: W, category: 'user' },
  'security.sys_startup': { severity: W, category: 'sys' },
  'security.sys_shutdown': { severity: W, category: 'sys' },
  'security.sys_restart': { severity: W, category: 'sys' },
  'security.sys_crash': { severity: F, category: 'sys' },
  'security.sys_monitor': { severity: I, category: 'sys' },
  'security.sys_monitor_disabled': { severity: W, category: 'sys' },
  'security.sys_monitor_enabled': { severity: W, category: 'sys' },
  'security.mcp_tools_changed': { severity: W, category: 'mcp' },
  'security.mcp_unknown_tool': { severity: W, category: 'mcp' },
  'security.integrity_genesis': { severity: I, category: 'sys' },
  'security.integrity_checkpoint': { severity: I, category: 'sys' },
  'security.integrity_end': { severity: I, category: 'sys' },
  'http.server.request': { severity: I, category: 'http' },
  'http.client.request': { severity: I, category: 'http' },
  'db.client.query': { severity: I, category: 'db' },
  'mcp.tool.call': { severity: I, category: 'mcp' },
  'mcp.resource.read': { severity: I, category: 'mcp' },
  'mcp.prompt.get': { severity: I, category: 'mcp' },
  'mcp.session.start': { severity: I, category: 'mcp' },
} as const satisfies Record<string, EventDef>;

export type KnownEventName = keyof typeof EVENTS;

const SEVERITY_TEXT: Record<number, string> = { 1: 'TRACE', 5: 'DEBUG', 9: 'INFO', 13: 'WARN', 17: 'ERROR', 21: 'FATAL' };

export function severityText(n: SeverityNumber): string {
  return SEVERITY_TEXT[n] ?? SEVERITY_TEXT[n - ((n - 1) % 4)] ?? 'INFO';
}

/** Definition of a name; unknown `security.*` names from the public API get a sane default. */
export function eventDef(name: string): EventDef {
  const def = (EVENTS as Record<string, EventDef>)[name];
  if (def !== undefined) return def;
  if (name.startsWith('security.malicious_')) return { severity: E, category: 'malicious' };
  return { severity: I, category: name.startsWith('security.authz') ? 'authz' : 'sys' };
}
