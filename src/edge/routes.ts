/**
 * The safe list: which GET/HEAD routes may be served by the local region. Everything else is unsafe and
 * goes to the master region, so every doubt here resolves to "unsafe": a path that does not decode, a
 * method other than GET/HEAD, a path on the deny list (which wins over the safe list).
 *
 * Patterns match whole path segments after normalisation (see normalizePath):
 *   /users/*          one segment (`/users/42`, not `/users` or `/users/42/posts`)
 *   /static/**        zero or more segments (`/static`, `/static/a/b.css`)
 *   /feeds/*.xml      `*` inside a segment matches within that segment only
 * A trailing slash is ignored; matching is case-sensitive, as paths are.
 */
import { CachetailError } from '../errors.js';

export interface RouteRules {
  readonly safe: readonly string[];
  readonly deny: readonly string[];
}

export type RouteMatcher = (method: string, target: string) => boolean;

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** Builds `isSafe(method, target)`; throws CONFIG_INVALID naming a pattern that cannot be a path. */
export function compileRouteRules(rules: RouteRules): RouteMatcher {
  const safe = rules.safe.map(compilePattern);
  const deny = rules.deny.map(compilePattern);
  return (method, target) => {
    if (!SAFE_METHODS.has(method)) return false;
    const path = normalizePath(target);
    if (path === undefined) return false;
    if (deny.some((re) => re.test(path))) return false;
    return safe.some((re) => re.test(path));
  };
}

/**
 * The path of a request target with the query dropped, each segment percent-decoded, `.`/`..` resolved
 * and empty segments removed, so `/a//b/../c/%7Ex` and `/a/c/~x` are one path and a deny rule cannot be
 * stepped around by spelling. A decoded `/` or `%` is re-encoded so it cannot forge a segment boundary.
 * The root is ''. Undefined when the target is not a path or does not decode (the caller treats it as
 * unsafe).
 */
export function normalizePath(target: string): string | undefined {
  let path = target;
  if (!path.startsWith('/')) {
    // Absolute form (`http://host/p`), as a client talking to a proxy may send it; `*` (OPTIONS) is not a path.
    try {
      path = new URL(path).pathname;
    } catch {
      return undefined;
    }
  }
  const end = path.search(/[?#]/);
  if (end >= 0) path = path.slice(0, end);
  // Fast path for the common case: nothing to decode, no dot or empty segment, so only a trailing slash
  // can differ from the normal form.
  if (!/%|\/\.|\/\//.test(path)) return path.endsWith('/') ? path.slice(0, -1) : path;
  const out: string[] = [];
  for (const raw of path.split('/')) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      out.pop();
      continue;
    }
    out.push(seg.replace(/%/g, '%25').replace(/\//g, '%2F'));
  }
  return out.map((s) => '/' + s).join('');
}

function compilePattern(pattern: string): RegExp {
  if (!pattern.startsWith('/')) {
    throw new CachetailError('CONFIG_INVALID', `route pattern ${JSON.stringify(pattern)} must start with /`);
  }
  let source = '';
  for (const seg of pattern.split('/')) {
    if (seg === '') continue;
    if (seg === '**') source += '(?:/[^/]+)*';
    else if (seg === '*') source += '/[^/]+';
    else if (seg.includes('**')) {
      throw new CachetailError(
        'CONFIG_INVALID',
        `route pattern ${JSON.stringify(pattern)}: ** must be a whole segment`,
      );
    } else source += '/' + seg.split('*').map(escapeRegExp).join('[^/]*');
  }
  return new RegExp(`^${source}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
