/**
 * JSON Schema of the experiment's `runtime:` block. The config engineer composes it into the
 * experiment schema; `selectBackend` takes the validated object as its options.
 */
export const runtimeOptionsSchema = {
  type: 'object',
  title: 'runtime',
  description: 'Which TensorFlow.js backend runs the experiment, and how it uses the CPU.',
  additionalProperties: false,
  properties: {
    backend: {
      enum: ['auto', 'tensorflow', 'tensorflow-gpu', 'wasm', 'cpu'],
      default: 'auto',
      description:
        "'auto' takes tensorflow-gpu (when @tensorflow/tfjs-node-gpu loads and sees a GPU), then tensorflow " +
        '(native, built by `npm run setup:tensorflow`), then wasm (single-threaded, ~20x slower), then cpu ' +
        '(pure JS, for tests only), and logs its choice. An explicit value fails if that backend cannot load.',
    },
    threads: {
      type: 'object',
      additionalProperties: false,
      description: "Thread pools of the native backends (read once when TensorFlow starts). Default: TensorFlow's own (all cores).",
      properties: {
        intra: { type: 'integer', minimum: 1, description: 'Threads used inside one op (TF_NUM_INTRAOP_THREADS).' },
        inter: { type: 'integer', minimum: 1, description: 'Independent ops run at once (TF_NUM_INTEROP_THREADS).' },
      },
    },
    compile: {
      enum: ['auto', true, false],
      default: 'auto',
      description:
        'Run each training iteration as one TensorFlow graph once it has been recorded (like CUDA graphs; a step that ' +
        'cannot be captured stays eager and logs why). About 3x faster on CPU for a convnet training step (bench/RESULTS.md). auto: on for the ' +
        "CPU 'tensorflow' backend; off on 'tensorflow-gpu', where tfjs-node's session call passes every variable through " +
        'host memory each iteration and the trade-off was not measured (no GPU here); true forces it on. false keeps every ' +
        'op eager, e.g. to debug a plugin.',
    },
    deterministic: {
      type: 'boolean',
      default: false,
      description:
        "Turn off oneDNN's custom kernels (TF_ENABLE_ONEDNN_OPTS=0) so native results are bit-stable across runs; slightly slower.",
    },
  },
} as const;
