/**
 * "[METHOD ]/path" patterns used by TRIPLINE_LOGIN_ROUTES and TRIPLINE_ADMIN_ROUTES:
 * `*` matches one path segment, `**` any number of segments (including none), a trailing slash is
 * optional, matching is case-insensitive on the path.
 */
export interface RoutePattern {
  readonly method: string | undefined;
  readonly re: RegExp;
  readonly source: string;
}

export function compileRoutePattern(p: string): RoutePattern {
  const sp = p.indexOf(' ');
  const method = sp > 0 ? p.slice(0, sp).toUpperCase() : undefined;
  const path = sp > 0 ? p.slice(sp + 1).trim() : p.trim();
  let re = '';
  const segs = path.split('/');
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i] ?? '';
    if (i === 0 && seg === '') continue;
    if (seg === '**') re += '(?:/[^/]+)*';
    else re += `/${seg.split('*').map(escape).join('[^/]+')}`;
  }
  return { method, re: new RegExp(`^${re === '' ? '' : re}/?$`, 'i'), source: p };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class RouteMatcher {
  private readonly patterns: RoutePattern[];
  constructor(patterns: readonly string[]) {
    this.patterns = patterns.map(compileRoutePattern);
  }
  get empty(): boolean {
    return this.patterns.length === 0;
  }
  /** Does method + path (or the route template) match any pattern? No method: any method. */
  matches(method: string | undefined, path: string | undefined, route?: string): boolean {
    const m = method?.toUpperCase();
    for (const p of this.patterns) {
      if (p.method !== undefined && m !== undefined && p.method !== m) continue;
      if ((path !== undefined && p.re.test(path)) || (route !== undefined && p.re.test(route))) return true;
    }
    return false;
  }
}
