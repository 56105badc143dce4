import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEvent, parseEvent, ProductEvent, RecommendationEvent, ReviewEvent } from './index.ts';

const reasonOf = (schema: Parameters<typeof parseEvent>[0], payload: unknown) => {
  const parsed = parseEvent(schema, payload);
  return 'reason' in parsed ? parsed.reason : undefined;
};

describe('parseEvent: values no database can store', () => {
  it('when a product name contains U+0000, then the event is invalid with a reason naming the field', () => {
    assert.equal(
      reasonOf(ProductEvent, createEvent('CREATE', 1, { productId: 1, name: 'a\u0000b', weight: 1 })),
      'Invalid CREATE event: /data/name contains U+0000 (NUL), which cannot be stored',
    );
  });

  it('when a text field holds an unpaired surrogate, then the event is invalid with a reason naming the field', () => {
    assert.equal(
      reasonOf(
        ReviewEvent,
        createEvent('CREATE', 1, { productId: 1, reviewId: 1, author: 'a', subject: 's', content: 'x\uDC00y' }),
      ),
      'Invalid CREATE event: /data/content contains an unpaired UTF-16 surrogate (U+DC00), which cannot be stored',
    );
  });

  it('when a text field holds 255 characters outside the BMP, then it fits a VARCHAR(255) and the event is valid', () => {
    assert.equal(
      reasonOf(ProductEvent, createEvent('CREATE', 1, { productId: 1, name: '\u{1F600}'.repeat(255), weight: 1 })),
      undefined,
    );
    assert.match(
      reasonOf(ProductEvent, createEvent('CREATE', 1, { productId: 1, name: '\u{1F600}'.repeat(256), weight: 1 })) ??
        '',
      /^Invalid CREATE event: \/data\/name /,
    );
  });

  it('when a number is outside its column, then the event is invalid', () => {
    assert.match(
      reasonOf(
        RecommendationEvent,
        createEvent('CREATE', 1, { productId: 1, recommendationId: 1, author: 'a', rate: 101, content: '' }),
      ) ?? '',
      /^Invalid CREATE event: \/data\/rate /,
    );
    assert.match(
      reasonOf(ProductEvent, createEvent('CREATE', 1, { productId: 1, name: 'n', weight: 2 ** 31 })) ?? '',
      /^Invalid CREATE event: \/data\/weight /,
    );
    assert.match(
      reasonOf(ProductEvent, { eventType: 'DELETE', key: 2 ** 31, data: null, eventCreatedAt: 'now' }) ?? '',
      /^Invalid DELETE event/,
    );
  });

  it('when a payload is nested far deeper than any event, then it is invalid rather than a stack overflow', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.match(
      reasonOf(ProductEvent, { eventType: 'CREATE', key: 1, data: deep, eventCreatedAt: 'now' }) ?? '',
      /^Invalid CREATE event/,
    );
  });

  it('when several fields cannot be stored, then the reason names the first in document order', () => {
    const reason = reasonOf(
      ReviewEvent,
      createEvent('CREATE', 1, { productId: 1, reviewId: 1, author: 'a\u0000', subject: '\uD800', content: '' }),
    );
    assert.match(reason ?? '', /^Invalid CREATE event: \/data\/author contains U\+0000/);
  });
});
