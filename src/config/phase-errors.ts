/**
 * A file's errors from every phase, reported at once: the merge phase (a missing base, a duplicate
 * key, a bad `--set`), references, and schema validation. Errors that only echo another are left
 * out, so each mistake is reported once, where it was made:
 * - a schema error about a value that is still an unresolved reference (its reference error says why);
 * - a missing reference into a node whose schema error is the cause (`model: [deeplabv2, 18]` makes
 *   `${model.num_classes}` missing; the error belongs at `model`);
 * - a schema error at a node the merge phase left out or nulled (a forbidden tag, an alias
 *   without anchor, a dotted key: the node's own error says what is wrong with it);
 * - when a file could not be merged (a base not found), missing keys, missing types and missing
 *   references: that file may well have set them.
 */
import type { AblateError } from '../errors.js';
import { getPath, isUnder } from './paths.js';
import { hasReference, MissingReference } from './refs.js';

/** Merge-phase errors whose node is absent or null in the merged config. */
const LEFT_OUT = new Set(['config.yaml-tag', 'config.yaml-alias', 'config.dotted-key']);

/** Schema errors that a missing file explains as well as a mistake would. */
const ECHO_OF_A_GAP = new Set(['config.missing-key', 'config.missing-type']);

export function mergePhaseErrors(tree: unknown, phases: { earlier: readonly AblateError[]; refs: readonly AblateError[]; schema: readonly AblateError[]; incomplete: boolean }): AblateError[] {
  const { earlier, refs, incomplete } = phases;
  const unresolved = (key: string | undefined) => {
    const v = key === undefined ? undefined : getPath(tree, key).value;
    return typeof v === 'string' && hasReference(v);
  };
  const leftOut = earlier.filter((e) => LEFT_OUT.has(e.code) && e.where?.key).map((e) => e.where!.key!);
  const atOrUnder = (key: string | undefined, roots: readonly string[]) => key !== undefined && roots.some((r) => isUnder(key, r));
  const schema = phases.schema.filter((e) => !(refs.length > 0 && unresolved(e.where?.key)) && !atOrUnder(e.where?.key, leftOut) && !(incomplete && ECHO_OF_A_GAP.has(e.code)));
  const causes = schema.map((e) => e.where?.key).filter((k): k is string => k !== undefined);
  const refErrors = refs.filter((e) => !(e instanceof MissingReference && (incomplete || causes.some((k) => isUnder(e.target, k)))));
  return [...earlier, ...refErrors, ...schema];
}
