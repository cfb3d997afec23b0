/**
 * Writes a recorded program as a TensorFlow SavedModel (saved_model.pb, no variables) with the
 * protobuf classes tfjs-node ships for reading SavedModels. tfjs-node can load such a directory
 * into a TF_Session and run it with tfjs tensors as feeds: one call into TensorFlow for the whole
 * program, whose executor runs independent ops concurrently on its inter-op threads.
 */
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OpAttr } from './trace.js';

/** A node of the graph to write: a Placeholder, a Const, or a recorded op. */
export type GraphNode =
  | { kind: 'placeholder'; name: string; dtype: number; shape: number[] }
  | { kind: 'const'; name: string; dtype: number; shape: number[]; values: unknown }
  | { kind: 'op'; name: string; op: string; attrs: OpAttr[]; inputs: string[] };

// Attribute type enums of tfjs-node's binding (TF_ATTR_*), stable across versions of the C API.
const ATTR_STRING = 0;
const ATTR_INT = 1;
const ATTR_FLOAT = 2;
const ATTR_BOOL = 3;
const ATTR_TYPE = 4;
const ATTR_SHAPE = 5;
// TF_DataType enums (equal to the DataType proto's).
const DT_FLOAT = 1;
const DT_INT32 = 3;
const DT_BOOL = 10;
const DT_INT64 = 9;

/**
 * The GraphDef version this program's ops are written for (TensorFlow 2.21's GRAPH_DEF_VERSION;
 * ops keep their semantics for graphs of a version, so the number pins what the recording meant).
 */
const GRAPH_DEF_PRODUCER = 2474;

/* eslint-disable @typescript-eslint/no-explicit-any -- google-protobuf's generated classes are untyped JavaScript */
type Proto = Record<string, any>;
let protoCache: Proto | undefined;
function proto(): Proto {
  if (!protoCache) {
    const require = createRequire(import.meta.url);
    protoCache = require('@tensorflow/tfjs-node/dist/proto/api_pb.js') as Proto;
  }
  return protoCache;
}

function shapeProto(dims: readonly number[]): any {
  const p = proto();
  const s = new p['TensorShape']();
  for (const d of dims) {
    const dim = new p['TensorShape'].Dim();
    dim.setSize(d);
    s.addDim(dim);
  }
  return s;
}

/** AttrValue setters per attribute type: [list setter, single-value setter, value conversion]. */
const ATTR_SETTERS: Record<number, [string | undefined, string, (x: unknown) => unknown]> = {
  [ATTR_INT]: ['setIList', 'setI', (x) => x],
  [ATTR_FLOAT]: ['setFList', 'setF', (x) => x],
  [ATTR_BOOL]: ['setBList', 'setB', (x) => x],
  [ATTR_TYPE]: ['setTypeList', 'setType', (x) => x],
  [ATTR_STRING]: ['setSList', 'setS', (x) => Buffer.from(x as string)],
  // A shape attribute's value is its dims array, not a list attribute.
  [ATTR_SHAPE]: [undefined, 'setShape', (x) => shapeProto(x as number[])],
};

function attrValue(a: OpAttr): any {
  const p = proto();
  const v = new p['AttrValue']();
  const setters = ATTR_SETTERS[a.type];
  if (!setters) throw new Error(`attribute ${a.name}: type ${a.type} is not supported`);
  const [listSetter, setter, convert] = setters;
  if (Array.isArray(a.value) && listSetter) {
    const l = new p['AttrValue'].ListValue();
    l[listSetter](a.value.map(convert));
    v.setList(l);
  } else {
    v[setter](convert(a.value));
  }
  return v;
}

function tensorProto(dtype: number, shape: number[], values: unknown): any {
  const p = proto();
  const t = new p['Tensor']();
  t.setDtype(dtype);
  t.setTensorShape(shapeProto(shape));
  const arr = values as ArrayLike<number>;
  let bytes: Uint8Array;
  if (dtype === DT_FLOAT) bytes = new Uint8Array(Float32Array.from(arr).buffer);
  else if (dtype === DT_INT32) bytes = new Uint8Array(Int32Array.from(arr).buffer);
  else if (dtype === DT_BOOL) bytes = Uint8Array.from(arr, (x) => (x ? 1 : 0));
  else if (dtype === DT_INT64) bytes = new Uint8Array(BigInt64Array.from(Array.from(arr, (x) => BigInt(x))).buffer);
  else throw new Error(`constant of dtype ${dtype} is not supported`);
  t.setTensorContent(bytes);
  return t;
}

function nodeDef(n: GraphNode): any {
  const p = proto();
  const node = new p['NodeDef']();
  node.setName(n.name);
  const attrs = node.getAttrMap();
  if (n.kind === 'placeholder') {
    node.setOp('Placeholder');
    attrs.set('dtype', attrValue({ name: 'dtype', type: ATTR_TYPE, value: n.dtype }));
    attrs.set('shape', attrValue({ name: 'shape', type: ATTR_SHAPE, value: n.shape }));
  } else if (n.kind === 'const') {
    node.setOp('Const');
    attrs.set('dtype', attrValue({ name: 'dtype', type: ATTR_TYPE, value: n.dtype }));
    const v = new p['AttrValue']();
    v.setTensor(tensorProto(n.dtype, n.shape, n.values));
    attrs.set('value', v);
  } else {
    node.setOp(n.op);
    for (const input of n.inputs) node.addInput(input);
    for (const a of n.attrs) attrs.set(a.name, attrValue(a));
  }
  return node;
}

/** Serialises `nodes` as a SavedModel tagged `tag` (bytes of saved_model.pb). */
export function savedModelBytes(nodes: readonly GraphNode[], tag: string): Uint8Array {
  const p = proto();
  const graph = new p['GraphDef']();
  for (const n of nodes) graph.addNode(nodeDef(n));
  const versions = new p['VersionDef']();
  versions.setProducer(GRAPH_DEF_PRODUCER);
  graph.setVersions(versions);
  const info = new p['MetaGraphDef'].MetaInfoDef();
  info.addTags(tag);
  const meta = new p['MetaGraphDef']();
  meta.setMetaInfoDef(info);
  meta.setGraphDef(graph);
  const model = new p['SavedModel']();
  model.setSavedModelSchemaVersion(1);
  model.addMetaGraphs(meta);
  return model.serializeBinary() as Uint8Array;
}

/** Writes the SavedModel directory (saved_model.pb and an empty variables/ folder). */
export function writeSavedModel(dir: string, nodes: readonly GraphNode[], tag: string): void {
  mkdirSync(path.join(dir, 'variables'), { recursive: true });
  writeFileSync(path.join(dir, 'saved_model.pb'), savedModelBytes(nodes, tag));
}
