/**
 * Records the TensorFlow ops that one run of a tensor program issues on tfjs-node.
 *
 * tfjs-node sends every op through `backend.binding.executeOp(name, attrs, inputIds, numOutputs)`
 * and materialises every tensor written from JavaScript with `binding.createTensor(shape, dtype,
 * values)`; ids are the binding's tensor handles. The binding object is frozen, so the backend gets
 * a copy whose two functions are wrapped for the duration of the recording. The ops still run: a
 * recording is an ordinary eager step that also leaves its program behind.
 */

/** A tfjs-node op attribute as the binding takes it. */
export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** Output metadata as the binding returns it (dtype is a TF_DataType enum). */
export interface TensorMeta {
  id: number;
  shape: number[];
  dtype: number;
}

export interface TracedOp {
  name: string;
  attrs: OpAttr[];
  inputs: number[];
  outputs: TensorMeta[];
}

/** A tensor written from JavaScript during the recording, with a copy of its values. */
export interface CreatedTensor {
  shape: number[];
  dtype: number;
  values: ArrayLike<number | bigint | boolean | string> | unknown;
}

export interface Trace {
  ops: TracedOp[];
  created: Map<number, CreatedTensor>;
  /** Binding ids whose values JavaScript read back during the recording (a graph cannot replay that). */
  reads: number[];
  /** Where the first read happened (a stack trace), for the error message. */
  firstReadAt?: string;
}

export interface Binding {
  executeOp(name: string, attrs: OpAttr[], inputs: number[], numOutputs: number): TensorMeta[];
  createTensor(shape: number[], dtype: number, values: unknown): number;
  tensorDataSync(id: number): unknown;
  deleteTensor(id: number): void;
  [key: string]: unknown;
}

export interface BindingHolder {
  binding: Binding;
}

function copyValues(values: unknown): unknown {
  if (ArrayBuffer.isView(values)) return (values as unknown as { slice(): unknown }).slice();
  return Array.isArray(values) ? [...values] : values;
}

/** Runs `fn` with the holder's binding recorded; the original binding is back afterwards, even on error. */
export function recordOps<T>(holder: BindingHolder, fn: () => T): { result: T; trace: Trace } {
  const original = holder.binding;
  const trace: Trace = { ops: [], created: new Map(), reads: [] };
  const wrapped: Record<string, unknown> = {};
  for (const k of Object.getOwnPropertyNames(original)) {
    const v = original[k];
    wrapped[k] = typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(original) : v;
  }
  wrapped['executeOp'] = (name: string, attrs: OpAttr[], inputs: number[], numOutputs: number) => {
    const outputs = original.executeOp(name, attrs, inputs, numOutputs);
    trace.ops.push({ name, attrs, inputs: [...inputs], outputs: outputs.map((o) => ({ id: o.id, shape: [...o.shape], dtype: o.dtype })) });
    return outputs;
  };
  wrapped['createTensor'] = (shape: number[], dtype: number, values: unknown) => {
    const id = original.createTensor(shape, dtype, values);
    trace.created.set(id, { shape: [...shape], dtype, values: copyValues(values) });
    return id;
  };
  wrapped['tensorDataSync'] = (id: number) => {
    trace.reads.push(id);
    if (trace.firstReadAt === undefined) {
      // tfjs frames come first: look deep enough to reach the caller's line.
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 60;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      trace.firstReadAt = stack.split('\n').slice(2).find((l) => !/node_modules|tfjs-core|tfjs-node|\/runtime\/capture\//.test(l))?.trim();
    }
    return original.tensorDataSync(id);
  };
  holder.binding = wrapped as Binding;
  try {
    return { result: fn(), trace };
  } finally {
    holder.binding = original;
  }
}
