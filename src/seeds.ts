/**
 * How an experiment's one seed becomes many: each component (by its slot) and each named stream
 * draws from its own seed, so adding a component or a stream never shifts another's random
 * numbers. A leaf module: the container, the engine and the data code all derive seeds here.
 */
import { createHash } from 'node:crypto';

/** A 31-bit seed derived from a seed and a name (a component's slot, a trainer's stream). */
export function deriveSeed(seed: number, name: string): number {
  const digest = createHash('sha256').update(`${seed}:${name}`).digest();
  return digest.readUInt32LE(0) & 0x7fffffff;
}
