/** Decoration colour buckets: untrusted scores from the webview are clamped, never thrown on. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUCKETS, bucketColor, scoreBucket } from '../../src/editor/scoreColors.js';

describe('score buckets', () => {
  it('maps 0..1 onto the buckets, ends included', () => {
    assert.equal(scoreBucket(0), 0);
    assert.equal(scoreBucket(0.124), 0);
    assert.equal(scoreBucket(0.125), 1);
    assert.equal(scoreBucket(0.999), BUCKETS - 1);
    assert.equal(scoreBucket(1), BUCKETS - 1);
  });

  it('clamps NaN, infinities and out-of-range scores', () => {
    assert.equal(scoreBucket(Number.NaN), 0);
    assert.equal(scoreBucket(-3), 0);
    assert.equal(scoreBucket(Number.POSITIVE_INFINITY), 0);
    assert.equal(scoreBucket(7), BUCKETS - 1);
  });

  it('gets more opaque with the score, in the mode\'s hue', () => {
    assert.equal(bucketColor('attention', 0), 'rgba(255, 140, 0, 0.06)');
    assert.equal(bucketColor('attention', BUCKETS - 1), 'rgba(255, 140, 0, 0.70)');
    assert.match(bucketColor('hiddenNorm', 3), /^rgba\(64, 156, 255, /);
  });
});
