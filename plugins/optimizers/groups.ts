/**
 * Parameter groups as an optimizer sees them: the network's groups, with the experiment's optional
 * per-group overrides of the lr multiplier and weight decay applied.
 */
import { AblateError, type Network, type ParameterGroup, type Variable } from '../../src/index.js';

export interface ResolvedGroup {
  name: string;
  lrMultiplier: number;
  weightDecay: number;
  variables: Variable[];
}

export interface GroupOverrides {
  lr_multipliers: Record<string, number>;
  weight_decays: Record<string, number>;
}

/** Group schema fragments shared by every optimizer's options. */
export const groupOverrideSchema = {
  lr_multipliers: {
    type: 'object',
    additionalProperties: { type: 'number', minimum: 0 },
    default: {},
    description:
      "Overrides the network's lr multiplier of a parameter group, by group name (e.g. `{classifier: 1}` trains the head at the base lr, base-110; the network's default is typically 10 for the classifier).",
  },
  weight_decays: {
    type: 'object',
    additionalProperties: { type: 'number', minimum: 0 },
    default: {},
    description: "Overrides the weight decay of a parameter group, by group name (e.g. `{classifier: 0}`).",
  },
} as const;

export function resolveGroups(network: Network, defaultWeightDecay: number, overrides: GroupOverrides, slot: string): ResolvedGroup[] {
  const groups: ParameterGroup[] = network.parameterGroups();
  const names = new Set(groups.map((g) => g.name));
  for (const [key, table] of [
    ['lr_multipliers', overrides.lr_multipliers],
    ['weight_decays', overrides.weight_decays],
  ] as const) {
    for (const name of Object.keys(table)) {
      if (!names.has(name)) {
        throw new AblateError('optimizer.unknown-group', `${slot}.${key} names a parameter group '${name}' that the network does not have`, {
          where: { key: `${slot}.${key}.${name}` },
          hint: `The network's parameter groups are: ${[...names].join(', ') || '(none)'}`,
        });
      }
    }
  }
  const seen = new Set<string>();
  return groups.map((g) => {
    for (const v of g.variables) {
      if (seen.has(v.name)) throw new AblateError('optimizer.duplicate-variable', `variable '${v.name}' is in two parameter groups of the network served by '${slot}'`);
      seen.add(v.name);
    }
    return {
      name: g.name,
      lrMultiplier: overrides.lr_multipliers[g.name] ?? g.lrMultiplier,
      weightDecay: overrides.weight_decays[g.name] ?? g.weightDecay ?? defaultWeightDecay,
      variables: g.variables,
    };
  });
}

/** The effective learning rate of every group, for logging. */
export function groupLearningRates(groups: readonly ResolvedGroup[], base: number): Record<string, number> {
  return Object.fromEntries(groups.map((g) => [g.name, base * g.lrMultiplier]));
}
