import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { originFormTarget } from './proxy.ts';

/** What a URL parser makes of an origin-form target: the reference the edge's fast path must agree with. */
function parsed(target: string): { path: string; search: string } {
  const url = new URL(target, 'http://edge.invalid');
  return { path: url.pathname, search: url.search };
}

const characters = fc.constantFrom(
  ...'abcXYZ019-_.~/?=&%+,:@!$*()\'";<>[]{}|^` #é'.split(''),
  '%2F',
  '%41',
  '..',
  './',
  '/..',
);

describe('origin-form targets', () => {
  it('when a target is accepted, then its path and query are exactly what URL parsing gives', () => {
    fc.assert(
      fc.property(
        fc.array(characters, { maxLength: 24 }).map((parts) => `/${parts.join('')}`),
        (target) => {
          const result = originFormTarget(target);
          if ('refused' in result) return;
          assert.deepEqual(result, parsed(target), target);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('when a target has dot segments or characters to encode, then it is normalised as a URL parser would', () => {
    assert.deepEqual(originFormTarget('/product-composite/../product/1'), { path: '/product/1', search: '' });
    assert.deepEqual(originFormTarget('/a b?c d'), { path: '/a%20b', search: '?c%20d' });
    assert.deepEqual(originFormTarget('/product-composite/1?'), { path: '/product-composite/1', search: '' });
    assert.deepEqual(originFormTarget('/product-composite/1?delay=2&faultPercent=0'), {
      path: '/product-composite/1',
      search: '?delay=2&faultPercent=0',
    });
  });
});
