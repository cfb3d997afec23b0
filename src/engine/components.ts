/**
 * The components a run drives, gathered from the experiment's container: the trainer, every
 * optimizer and scheduler slot (the engine steps the schedules and logs every optimizer's learning
 * rates), and every network (slots whose component is a network, whatever its kind, plus the
 * trainer's own networks) for checkpoints and evaluation. Which network evaluation scores is named
 * by `evaluation.network`.
 */
import { AblateError } from '../errors.js';
import type { ExperimentContainer } from '../plugin/container.js';
import { didYouMean } from '../plugin/registry.js';
import type { Metric, Network, Optimizer, Scheduler, SegmentationModel, Trainer } from '../plugin/contracts.js';

export interface RunComponents {
  trainer: Trainer;
  /** Networks by slot (`model`, and any slot of a pack whose component is a network). */
  networks: ReadonlyMap<string, Network>;
  /** The trainer's own networks (an EMA teacher), by the name it gives them. */
  trainerNetworks: ReadonlyMap<string, Network>;
  optimizers: ReadonlyMap<string, Optimizer>;
  schedulers: ReadonlyMap<string, Scheduler>;
}

export function isNetwork(x: unknown): x is Network {
  const n = x as Partial<Network> | null;
  return typeof n === 'object' && n !== null && typeof n.stateDict === 'function' && typeof n.parameterGroups === 'function';
}

/** Built components of every configured slot of `kind`. */
async function slotsOfKind<K extends 'optimizer' | 'scheduler'>(container: ExperimentContainer, kind: K): Promise<Map<string, K extends 'optimizer' ? Optimizer : Scheduler>> {
  const out = new Map<string, K extends 'optimizer' ? Optimizer : Scheduler>();
  for (const slot of container.slotNames()) if (container.kindOf(slot) === kind) out.set(slot, (await container.get(slot, kind)) as K extends 'optimizer' ? Optimizer : Scheduler);
  return out;
}

/**
 * The trainer's networks, checked: tensor names `trainer/<name>/…` and `evaluation.network` share
 * one namespace with the slots, so a name must be a plain word that no slot uses.
 */
export function trainerNetworksOf(trainer: Trainer, container: ExperimentContainer): ReadonlyMap<string, Network> {
  const nets = trainer.networks?.() ?? new Map<string, Network>();
  for (const [name, net] of nets) {
    if (!/^[A-Za-z][\w.-]*$/.test(name)) throw new AblateError('run.trainer-network-name', `the trainer names a network '${name}'; use a plain word like 'teacher'`, { where: { key: 'trainer' }, exitCode: 1 });
    if (container.has(name)) throw new AblateError('run.trainer-network-name', `the trainer's network '${name}' has the name of the experiment's slot '${name}'`, { where: { key: 'trainer' }, hint: 'a trainer must name its own networks differently from the slots (e.g. `teacher`)', exitCode: 1 });
    if (!isNetwork(net)) throw new AblateError('run.trainer-network-name', `the trainer's network '${name}' is not a network (it needs stateDict() and parameterGroups())`, { where: { key: 'trainer' }, exitCode: 1 });
  }
  return nets;
}

/** Builds the trainer and what the engine drives besides it. */
export async function assembleRun(container: ExperimentContainer): Promise<RunComponents> {
  const trainer = await container.get('trainer', 'trainer');
  const optimizers = await slotsOfKind(container, 'optimizer');
  const schedulers = await slotsOfKind(container, 'scheduler');
  // The networks are the slots built so far whose component is one: what the trainer, the
  // optimizers and the schedules asked for. A network nobody uses is not trained, so not saved.
  const networks = new Map<string, Network>();
  for (const [slot, component] of container.builtSlots()) if (isNetwork(component)) networks.set(slot, component);
  return { trainer, networks, optimizers, schedulers, trainerNetworks: trainerNetworksOf(trainer, container) };
}

/** The experiment's metrics by name (`metrics.<name>`), built. */
export async function metricsOf(container: ExperimentContainer): Promise<Map<string, Metric>> {
  const out = new Map<string, Metric>();
  for (const slot of container.slotNames()) if (container.kindOf(slot) === 'metric') out.set(slot.replace(/^metrics\./, ''), await container.get(slot, 'metric'));
  return out;
}

/**
 * The network `evaluation.network` names (default `model`): a slot holding a network, or one of
 * the trainer's. It must map images to class logits (`apply`), like a segmentation model.
 */
export async function evaluatedNetwork(name: string, container: ExperimentContainer, trainerNetworks: ReadonlyMap<string, Network>, key = 'evaluation.network'): Promise<SegmentationModel> {
  let net: unknown;
  if (container.has(name)) {
    const kind = container.kindOf(name)!;
    net = await container.get(name, kind);
  } else if (trainerNetworks.has(name)) {
    net = trainerNetworks.get(name);
  } else {
    const candidates = [...container.slotNames().filter((s) => isNetwork(container.builtSlots().get(s))), ...trainerNetworks.keys()];
    const near = didYouMean(name, candidates);
    throw new AblateError('run.unknown-network', `${key} names '${name}', which is neither a slot nor a network of the trainer`, {
      where: { key },
      hint: `${near ? `did you mean '${near}'? ` : ''}networks: ${candidates.join(', ') || '(none)'}`,
    });
  }
  if (!isNetwork(net) || typeof (net as Partial<SegmentationModel>).apply !== 'function') {
    throw new AblateError('run.not-evaluable', `${key} names '${name}', which is not a network that maps images to class logits`, { where: { key } });
  }
  return net as SegmentationModel;
}
