/**
 * Telling an effect from noise: the paired difference of a cell to the reference row's cell in
 * the same column, paired by replicate (runs of one seed share initialisation and data order, so
 * their difference cancels that shared noise), as mean Δ with a 95 % confidence interval — a
 * Student t interval on the paired differences, or a seeded percentile bootstrap of their mean.
 */
import { SeededRng } from '../data/rng.js';

export type IntervalMethod = 't' | 'bootstrap';

export interface PairedDelta {
  /** The reference row the difference is taken to. */
  baseline: string;
  /** Replicates present in both cells. */
  n: number;
  /** Mean of (cell − reference) over the paired replicates. */
  mean: number;
  /** 95 % confidence interval of that mean (NaN when n < 2). */
  low: number;
  high: number;
  method: IntervalMethod;
  /** The interval excludes 0. */
  excludesZero: boolean;
  /** Each replicate's difference, in the cell's replicate order. */
  differences: number[];
}

// ─── Student t quantile ──

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9), |error| < 1e-13 for x > 0.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the regularised incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(x, a, b)) / a : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Student t cumulative distribution with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t (p in (0.5, 1)), by bisection on the distribution function. */
export function studentTQuantile(p: number, df: number): number {
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

// ─── intervals ──

/** 95 % t interval of the mean of `xs` (NaN bounds for fewer than 2 values). */
export function tInterval(xs: readonly number[]): { mean: number; low: number; high: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, low: NaN, high: NaN };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = (studentTQuantile(0.975, n - 1) * sd) / Math.sqrt(n);
  return { mean, low: mean - half, high: mean + half };
}

/** 95 % percentile-bootstrap interval of the mean of `xs`, `resamples` resamples drawn from `seed`. */
export function bootstrapInterval(xs: readonly number[], seed = 0, resamples = 10000): { mean: number; low: number; high: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, low: NaN, high: NaN };
  const rng = new SeededRng(seed);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[rng.int(0, n)]!;
    means[b] = s / n;
  }
  means.sort();
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))]!;
  return { mean, low: at(0.025), high: at(0.975) };
}

/**
 * The paired difference of `cell` to `reference` over the replicates both have (cell order), or
 * undefined when fewer than one replicate pairs up.
 */
export function pairedDelta(
  cell: { values: readonly number[]; replicates: readonly string[] },
  reference: { values: readonly number[]; replicates: readonly string[] },
  baseline: string,
  method: IntervalMethod = 't',
  seed = 0,
): PairedDelta | undefined {
  const ref = new Map(reference.replicates.map((r, i) => [r, reference.values[i]!]));
  const differences: number[] = [];
  cell.replicates.forEach((r, i) => {
    const v = ref.get(r);
    if (v !== undefined) differences.push(cell.values[i]! - v);
  });
  if (differences.length === 0) return undefined;
  const { mean, low, high } = method === 't' ? tInterval(differences) : bootstrapInterval(differences, seed);
  return { baseline, n: differences.length, mean, low, high, method, excludesZero: low > 0 || high < 0, differences };
}
