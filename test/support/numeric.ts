/**
 * Numeric comparison for tests, one definition with the tolerance's meaning spelled out.
 *
 * relErr = max |actual − expected| / max(floor, max |expected|), over every element. The floor is
 * the scale below which an error counts absolutely:
 *   - REFERENCE_SCALE (1e-12, the default): purely relative to the reference's largest value, for
 *     parity against PyTorch fixtures, where small tensors (gradients) must match as closely as
 *     large ones;
 *   - UNIT_SCALE (1): errors on values below 1 count as absolute, for comparing two runs of our
 *     own code (eager vs compiled), where float32 round-off near zero is not a discrepancy.
 */
import assert from 'node:assert/strict';

export const REFERENCE_SCALE = 1e-12;
export const UNIT_SCALE = 1;

export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = REFERENCE_SCALE): number {
  assert.equal(actual.length, expected.length, 'length mismatch');
  let diff = 0;
  let scale = floor;
  for (let i = 0; i < actual.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / scale;
}

/** Fails with the measured error when relErr exceeds `tol`. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string, floor = REFERENCE_SCALE): void {
  const e = relErr(actual, expected, floor);
  assert.ok(e <= tol, `${what}: relative error ${e.toExponential(2)} > ${tol}`);
}
