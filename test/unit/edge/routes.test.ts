import { describe, expect, it } from 'vitest';
import { compileRouteRules, normalizePath } from '../../../src/edge/routes.js';

describe('normalizePath', () => {
  it.each([
    ['/', ''],
    ['/a/b', '/a/b'],
    ['/a//b/', '/a/b'],
    ['/a/./b/../c', '/a/c'],
    ['/../../a', '/a'],
    ['/a/%7Ex?q=1#f', '/a/~x'],
    ['/a/%2e%2e/b', '/b'],
    ['/a%2Fb/c', '/a%2Fb/c'],
    ['/100%25', '/100%25'],
    ['http://example.com/x/y?z', '/x/y'],
    ['/a/b/', '/a/b'],
    ['/a/.well-known/x', '/a/.well-known/x'],
    ['/a/.', '/a'],
    ['/a?x=%zz', '/a'],
    ['/a#%zz', '/a'],
  ])('%s → %s', (target, path) => {
    expect(normalizePath(target)).toBe(path);
  });

  it.each(['/a/%E0%A4%A', '/%', '*', 'not a url'])('%s does not normalize', (target) => {
    expect(normalizePath(target)).toBeUndefined();
  });
});

describe('compileRouteRules', () => {
  const isSafe = compileRouteRules({
    safe: ['/', '/users/*', '/static/**', '/feeds/*.xml', '/search'],
    deny: ['/users/me', '/static/private/**'],
  });

  it.each([
    ['GET', '/', true],
    ['HEAD', '/users/42', true],
    ['GET', '/users/42?tab=posts', true],
    ['GET', '/users/42/', true],
    ['GET', '/users', false],
    ['GET', '/users/42/posts', false],
    ['GET', '/static', true],
    ['GET', '/static/css/site.css', true],
    ['GET', '/feeds/news.xml', true],
    ['GET', '/feeds/news.json', false],
    ['GET', '/feeds/a/b.xml', false],
    ['GET', '/search?q=x', true],
    ['GET', '/Search', false],
    // the deny list wins, however the path is spelled
    ['GET', '/users/me', false],
    ['GET', '/users//me', false],
    ['GET', '/users/x/../me', false],
    ['GET', '/users/%6De', false],
    ['GET', '/static/private/key.pem', false],
    ['GET', '/static/./private/key.pem', false],
    // only GET and HEAD are ever safe
    ['POST', '/users/42', false],
    ['PUT', '/', false],
    ['OPTIONS', '/', false],
    ['get', '/', false],
    // a path that does not decode is unsafe
    ['GET', '/users/%E0%A4%A', false],
  ])('%s %s → safe=%s', (method, target, safe) => {
    expect(isSafe(method, target)).toBe(safe);
  });

  it('with the default safe list every GET path is safe', () => {
    const all = compileRouteRules({ safe: ['/**'], deny: [] });
    expect([all('GET', '/'), all('GET', '/a/b/c'), all('HEAD', '/x?y'), all('POST', '/')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('an empty safe list makes everything unsafe', () => {
    expect(compileRouteRules({ safe: [], deny: [] })('GET', '/')).toBe(false);
  });

  it('rejects patterns that are not paths, naming them', () => {
    expect(() => compileRouteRules({ safe: ['users/*'], deny: [] })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: 'route pattern "users/*" must start with /',
      }),
    );
    expect(() => compileRouteRules({ safe: [], deny: ['/a**'] })).toThrow(
      'route pattern "/a**": ** must be a whole segment',
    );
  });
});
