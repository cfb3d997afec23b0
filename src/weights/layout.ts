/**
 * PyTorch ↔ tfjs tensor layouts. PyTorch convs store OIHW and transposed convs IOHW; tfjs stores
 * HWIO for conv2d and [kh, kw, out, in] for conv2dTranspose. Both conversions are the SAME axis
 * permutation (torch axes (a, b, h, w) → tfjs (h, w, b, a)), so rank-4 tensors need no layer type.
 * Vectors (biases, BN parameters and statistics) are identical in both.
 */
export interface HostTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Permutes a dense row-major tensor: output axis i is input axis `perm[i]`. */
export function permute<T extends Float32Array | Int32Array>(data: T, shape: readonly number[], perm: readonly number[]): { shape: number[]; data: T } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * shape[i + 1]!;
  const strideOfOut = perm.map((p) => inStrides[p]!);
  const out = new (data.constructor as { new (n: number): T })(data.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < data.length; o++) {
    out[o] = data[src]!;
    // Odometer increment over the output index, tracking the matching source offset.
    for (let ax = rank - 1; ax >= 0; ax--) {
      idx[ax]! += 1;
      src += strideOfOut[ax]!;
      if (idx[ax]! < outShape[ax]!) break;
      src -= strideOfOut[ax]! * outShape[ax]!;
      idx[ax] = 0;
    }
  }
  return { shape: outShape, data: out };
}

const TORCH_TO_TF = [2, 3, 1, 0];
const TF_TO_TORCH = [3, 2, 0, 1];

export function torchToTfjs<T extends HostTensor>(t: T): HostTensor {
  return t.shape.length === 4 ? permute(t.data, t.shape, TORCH_TO_TF) : { shape: [...t.shape], data: t.data };
}

export function tfjsToTorch<T extends HostTensor>(t: T): HostTensor {
  return t.shape.length === 4 ? permute(t.data, t.shape, TF_TO_TORCH) : { shape: [...t.shape], data: t.data };
}

/** The tfjs shape a PyTorch tensor of `shape` converts to. */
export function tfjsShapeOf(torchShape: readonly number[]): number[] {
  return torchShape.length === 4 ? TORCH_TO_TF.map((p) => torchShape[p]!) : [...torchShape];
}
