/**
 * From two recordings of a step to a loaded TensorFlow graph, and replaying it.
 *
 * A recording (./trace.ts) lists ops by binding tensor ids, which differ from step to step. Each
 * op input is therefore described by its *role*: the output of an earlier op, the step's i-th
 * input, a variable's value, a constant made from JavaScript values, or a tensor that existed
 * before the step. Two recordings are the same program when ops, attributes and roles agree
 * (constants by value); the graph is then written from the second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AblateError } from '../../errors.js';
import { tf } from '../tf.js';
import type { Tensor, Variable } from '../tf.js';
import { recordOps, type OpAttr, type Trace } from './trace.js';
import { writeSavedModel, type GraphNode } from './saved-model.js';
import { dtypeEnum, type NodeBackend } from './node-backend.js';

export type StepOutputs = Record<string, Tensor>;
export type StepFn<O extends StepOutputs> = (inputs: readonly Tensor[]) => O;

/** Why a step cannot run as a graph; the step then stays eager. */
export class NotCapturable extends Error {}

type Role =
  | { kind: 'op'; op: number; output: number }
  | { kind: 'input'; index: number }
  | { kind: 'state'; variable: string }
  | { kind: 'const'; key: string }
  | { kind: 'persistent'; id: number };

/** One recorded step, analysed. */
export interface Recording {
  trace: Trace;
  roles: Role[][];
  /** Variables the step reassigned: name → binding id of the new value. */
  updates: Map<string, number>;
  /** The step's named outputs → binding id. */
  outputs: Map<string, number>;
  inputs: { dtype: number; shape: number[] }[];
}

export function registeredVariables(): Variable[] {
  return Object.values(tf.engine().registeredVariables);
}

function valuesKey(c: { shape: number[]; dtype: number; values: unknown }): string {
  return `${c.dtype}|${c.shape.join('x')}|${Array.from(c.values as ArrayLike<number>).join(',')}`;
}

/** Runs the step eagerly while recording it; `recording` is undefined (with `reason`) if it cannot be captured. */
export function recordStep<O extends StepOutputs>(be: NodeBackend, fn: StepFn<O>, inputs: readonly Tensor[]): { result: O; recording?: Recording; reason?: string } {
  const before = registeredVariables();
  const stateIds = new Map<number, string>();
  be.getInputTensorIds(before).forEach((id, i) => stateIds.set(id, before[i]!.name));
  const inputIds = new Map<number, number>();
  be.getInputTensorIds([...inputs]).forEach((id, i) => inputIds.set(id, i));
  const { result, trace } = recordOps(be, () => fn(inputs));
  try {
    return { result, recording: analyse(be, trace, stateIds, inputIds, before.length, inputs, result) };
  } catch (e) {
    if (e instanceof NotCapturable) return { result, reason: e.message };
    throw e;
  }
}

function analyse(be: NodeBackend, trace: Trace, stateIds: Map<number, string>, inputIds: Map<number, number>, variableCount: number, inputs: readonly Tensor[], result: StepOutputs): Recording {
  if (trace.reads.length) {
    throw new NotCapturable(`the step reads ${trace.reads.length} tensor value(s) back into JavaScript (first ${trace.firstReadAt ?? 'at an unknown place'}); return them as outputs instead`);
  }
  if (!trace.ops.length) throw new NotCapturable('the step issued no TensorFlow ops');
  const produced = new Map<number, { op: number; output: number }>();
  const roles: Role[][] = trace.ops.map((op, i) => {
    const r = op.inputs.map((id): Role => {
      const p = produced.get(id);
      if (p) return { kind: 'op', ...p };
      const input = inputIds.get(id);
      if (input !== undefined) return { kind: 'input', index: input };
      const variable = stateIds.get(id);
      if (variable !== undefined) return { kind: 'state', variable };
      const created = trace.created.get(id);
      if (created) return { kind: 'const', key: valuesKey(created) };
      return { kind: 'persistent', id };
    });
    op.outputs.forEach((o, k) => produced.set(o.id, { op: i, output: k }));
    return r;
  });
  const after = registeredVariables();
  if (after.length !== variableCount) throw new NotCapturable(`the step created or disposed variables (${variableCount} before, ${after.length} after)`);
  const updates = new Map<string, number>();
  be.getInputTensorIds(after).forEach((id, i) => {
    const v = after[i]!;
    if (stateIds.get(id) === v.name) return; // unchanged
    if (!produced.has(id)) throw new NotCapturable(`variable '${v.name}' was assigned a tensor not computed by the step`);
    updates.set(v.name, id);
  });
  const outputs = new Map<string, number>();
  const names = Object.keys(result);
  be.getInputTensorIds(Object.values(result)).forEach((id, i) => {
    if (!produced.has(id)) throw new NotCapturable(`output '${names[i]}' is not computed by the step`);
    outputs.set(names[i]!, id);
  });
  return { trace, roles, updates, outputs, inputs: inputs.map((t) => ({ dtype: dtypeEnum(t.dtype), shape: [...t.shape] })) };
}

/** Throws NotCapturable naming the first difference between two recordings. */
export function assertSameProgram(a: Recording, b: Recording): void {
  if (a.trace.ops.length !== b.trace.ops.length) throw new NotCapturable(`two recorded steps issued different numbers of ops (${a.trace.ops.length} vs ${b.trace.ops.length})`);
  b.trace.ops.forEach((op, i) => {
    const other = a.trace.ops[i]!;
    const where = `op ${i} (${op.name})`;
    if (op.name !== other.name) throw new NotCapturable(`${where}: the other step issued ${other.name} there`);
    if (JSON.stringify(op.attrs) !== JSON.stringify(other.attrs)) throw new NotCapturable(`${where}: attributes differ between two steps`);
    b.roles[i]!.forEach((r, k) => {
      if (JSON.stringify(r) === JSON.stringify(a.roles[i]![k])) return;
      const what = r.kind === 'const' ? 'reads a tensor made from JavaScript values that changed between steps (make it a variable or an input)' : `input ${k} comes from a different source in two steps`;
      throw new NotCapturable(`${where}: ${what}`);
    });
  });
  if ([...a.updates.keys()].join() !== [...b.updates.keys()].join()) throw new NotCapturable('two steps assigned different variables');
  if ([...a.outputs.keys()].join() !== [...b.outputs.keys()].join()) throw new NotCapturable('two steps returned different outputs');
}

const ATTR_TYPE = 4; // TF_ATTR_TYPE

/**
 * Type attributes that tfjs-node leaves to eager execution's inference (a TFE op infers them from
 * its inputs; a graph node must state them): attribute → index of the input it describes.
 */
const INFERRED_TYPE_ATTRS: Record<string, Record<string, number>> = {
  ExpandDims: { T: 0, Tdim: 1 },
};

function withInferredTypeAttrs(op: string, attrs: OpAttr[], inputDtypes: (number | undefined)[]): OpAttr[] {
  const table = INFERRED_TYPE_ATTRS[op];
  if (!table) return attrs;
  const out = [...attrs];
  for (const [attr, input] of Object.entries(table)) {
    if (out.some((a) => a.name === attr)) continue;
    const dtype = inputDtypes[input];
    if (dtype === undefined) throw new NotCapturable(`${op}: cannot infer attribute ${attr}`);
    out.push({ name: attr, type: ATTR_TYPE, value: dtype });
  }
  return out;
}

/** Shape and dtype of a live binding tensor (the binding has no query for them: an Identity op reports both). */
function liveTensorMeta(be: NodeBackend, id: number): { dtype: number; shape: number[] } {
  const probe = be.binding.executeOp('Identity', [], [id], 1)[0]!;
  be.binding.deleteTensor(probe.id);
  return { dtype: probe.dtype, shape: probe.shape };
}

/** A recorded step loaded as a TF_Session: feeds inputs and variables, fetches updates and outputs. */
export class CapturedProgram<O extends StepOutputs> {
  readonly ops: number;
  private readonly session: number;
  private readonly inputCount: number;
  private readonly feedState: Variable[] = [];
  private readonly feedNames: string[] = [];
  private readonly fetchState: Variable[];
  private readonly fetchOutputs: string[];
  private readonly fetchNames: string[];

  constructor(be: NodeBackend, r: Recording) {
    const variables = new Map(registeredVariables().map((v) => [v.name, v]));
    const nodes: GraphNode[] = [];
    const tensorName = new Map<number, string>(); // binding id → graph tensor name
    const dtypes = new Map<number, number>();
    const stateFeeds = new Map<string, string>(); // variable → placeholder
    let inputCount = 0;
    r.trace.ops.forEach((op, i) => {
      const inputs = op.inputs.map((id, k) => {
        const known = tensorName.get(id);
        if (known) return known;
        const role = r.roles[i]![k]!;
        let name: string;
        if (role.kind === 'input') {
          name = `input${role.index}`;
          inputCount = Math.max(inputCount, role.index + 1);
          dtypes.set(id, r.inputs[role.index]!.dtype);
        } else if (role.kind === 'state') {
          name = stateFeeds.get(role.variable) ?? `state${stateFeeds.size}`;
          if (!stateFeeds.has(role.variable)) {
            stateFeeds.set(role.variable, name);
            const v = variables.get(role.variable)!;
            this.feedState.push(v);
            nodes.push({ kind: 'placeholder', name, dtype: dtypeEnum(v.dtype), shape: [...v.shape] });
          }
          dtypes.set(id, dtypeEnum(variables.get(role.variable)!.dtype));
        } else if (role.kind === 'const') {
          name = `const${i}_${k}`;
          const c = r.trace.created.get(id)!;
          nodes.push({ kind: 'const', name, dtype: c.dtype, shape: c.shape, values: c.values });
          dtypes.set(id, c.dtype);
        } else if (role.kind === 'persistent') {
          // A tensor from before the step, the same in both recordings: immutable, so a constant.
          name = `persistent${i}_${k}`;
          const meta = liveTensorMeta(be, id);
          nodes.push({ kind: 'const', name, dtype: meta.dtype, shape: meta.shape, values: be.binding.tensorDataSync(id) });
          dtypes.set(id, meta.dtype);
        } else {
          throw new Error(`op ${i}: input ${k} refers to an op output that was not recorded`);
        }
        tensorName.set(id, name);
        return name;
      });
      nodes.push({ kind: 'op', name: `op${i}`, op: op.name, attrs: withInferredTypeAttrs(op.name, op.attrs, op.inputs.map((id) => dtypes.get(id))), inputs });
      op.outputs.forEach((o, k) => {
        tensorName.set(o.id, k === 0 ? `op${i}` : `op${i}:${k}`);
        dtypes.set(o.id, o.dtype);
      });
    });
    for (let i = 0; i < inputCount; i++) nodes.push({ kind: 'placeholder', name: `input${i}`, dtype: r.inputs[i]!.dtype, shape: r.inputs[i]!.shape });
    const fetch = (id: number) => {
      const n = tensorName.get(id)!;
      return n.includes(':') ? n : `${n}:0`;
    };
    this.inputCount = inputCount;
    this.feedNames = [...Array.from({ length: inputCount }, (_, i) => `input${i}:0`), ...[...stateFeeds.values()].map((n) => `${n}:0`)];
    this.fetchState = [...r.updates.keys()].map((v) => variables.get(v)!);
    this.fetchOutputs = [...r.outputs.keys()];
    this.fetchNames = [...[...r.updates.values()].map(fetch), ...[...r.outputs.values()].map(fetch)];
    this.ops = r.trace.ops.length;
    // The folder is only read while loading: the session holds the graph in memory.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-step-'));
    try {
      writeSavedModel(dir, nodes, 'ablate');
      this.session = be.loadSavedModelMetaGraph(dir, 'ablate');
    } catch (e) {
      throw new NotCapturable(`TensorFlow did not accept the recorded graph: ${(e as Error).message.split('\n')[0]}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  get feeds(): number {
    return this.feedNames.length;
  }

  get fetches(): number {
    return this.fetchNames.length;
  }

  /** One step: the graph runs on the current inputs and variables; updated variables are assigned. */
  run(be: NodeBackend, inputs: readonly Tensor[]): O {
    if (inputs.length < this.inputCount) throw new Error(`compiled step: expected ${this.inputCount} inputs, got ${inputs.length}`);
    const feeds = [...inputs.slice(0, this.inputCount), ...this.feedState];
    let out: Tensor[];
    try {
      out = be.runSavedModel(this.session, feeds, this.feedNames.map((name) => ({ name })), this.fetchNames);
    } catch (e) {
      throw new AblateError('runtime.compiled-step-failed', `the compiled training step failed inside TensorFlow: ${(e as Error).message.split('\n')[0]}`, {
        hint: "set runtime.compile: false to run the step op by op: the error then names the plugin's line that issued the failing op",
        exitCode: 1,
        cause: e,
      });
    }
    this.fetchState.forEach((v, i) => {
      v.assign(out[i]!);
      out[i]!.dispose();
    });
    const result: StepOutputs = {};
    this.fetchOutputs.forEach((name, i) => (result[name] = out[this.fetchState.length + i]!));
    return result as O;
  }

  dispose(be: NodeBackend | undefined): void {
    be?.deleteSavedModel(this.session);
  }
}
