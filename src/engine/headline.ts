/**
 * The experiment's headline metrics (`evaluation.headline`): the evaluation scalars that the sweep
 * summary, `ablate report` and the quickstart show. An empty list means the first scalar the
 * evaluation reports without a '/' in its name (per-class and timing scalars carry one).
 */
export function headlineKeys(headline: readonly string[], metrics: readonly Record<string, number>[]): string[] {
  if (headline.length > 0) return [...headline];
  for (const m of metrics) {
    const first = Object.keys(m).find((k) => !k.includes('/'));
    if (first !== undefined) return [first];
  }
  return [];
}
