/**
 * Registers tfjs's gradient functions (Conv2D_grad, MatMul_grad, …) in the global registry.
 *
 * @tensorflow/tfjs-core's Node entry (a CJS bundle) defines every op but registers NO gradients;
 * its own `register_all_gradients` is an extensionless ESM file Node cannot load. The union package
 * @tensorflow/tfjs (same 4.22.0, deduped onto our tfjs-core, so still one engine) registers them
 * when loaded, as does tfjs-node through it. Without this, `tf.grad` fails on cpu and wasm with
 * "gradient function not found for Sum".
 */
import '@tensorflow/tfjs';
