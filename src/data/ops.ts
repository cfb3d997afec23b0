/**
 * Geometric operations on samples (HWC float images and H×W label maps) that transforms are built
 * from. Every operation moves image and label together, so they stay aligned pixel for pixel.
 */
import type { Sample } from '../plugin/contracts.js';

/** Bilinear resize of an HWC float image (half-pixel centres, like OpenCV's INTER_LINEAR). */
export function resizeBilinear(src: Float32Array, h: number, w: number, c: number, oh: number, ow: number): Float32Array {
  const out = new Float32Array(oh * ow * c);
  const sy = h / oh;
  const sx = w / ow;
  const x0s = new Int32Array(ow);
  const x1s = new Int32Array(ow);
  const fxs = new Float32Array(ow);
  for (let x = 0; x < ow; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
    const x0 = Math.floor(fx);
    x0s[x] = x0;
    x1s[x] = Math.min(x0 + 1, w - 1);
    fxs[x] = fx - x0;
  }
  for (let y = 0; y < oh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = fy - y0;
    const r0 = y0 * w * c;
    const r1 = y1 * w * c;
    let o = y * ow * c;
    for (let x = 0; x < ow; x++) {
      const a = (x0s[x] as number) * c;
      const b = (x1s[x] as number) * c;
      const wx = fxs[x] as number;
      for (let k = 0; k < c; k++) {
        const top = (src[r0 + a + k] as number) * (1 - wx) + (src[r0 + b + k] as number) * wx;
        const bottom = (src[r1 + a + k] as number) * (1 - wx) + (src[r1 + b + k] as number) * wx;
        out[o++] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return out;
}

/**
 * Nearest-neighbour resize of a label map (never invents classes at boundaries). Pixel centres are
 * matched like the bilinear image resize (half-pixel), so each label comes from one of the source
 * pixels its image pixel was blended from; OpenCV's INTER_NEAREST (corner-aligned) can be up to one
 * source pixel off from its own INTER_LINEAR image.
 */
export function resizeNearest(src: Uint8Array, h: number, w: number, oh: number, ow: number): Uint8Array {
  const out = new Uint8Array(oh * ow);
  const xs = new Int32Array(ow);
  for (let x = 0; x < ow; x++) xs[x] = Math.min(Math.floor(((x + 0.5) * w) / ow), w - 1);
  for (let y = 0; y < oh; y++) {
    const row = Math.min(Math.floor(((y + 0.5) * h) / oh), h - 1) * w;
    for (let x = 0; x < ow; x++) out[y * ow + x] = src[row + (xs[x] as number)] as number;
  }
  return out;
}

/** Resizes image (bilinear) and label (nearest) to oh×ow. */
export function resizeSample(s: Sample, oh: number, ow: number): Sample {
  if (oh === s.height && ow === s.width) return s;
  return {
    ...s,
    height: oh,
    width: ow,
    image: resizeBilinear(s.image, s.height, s.width, 3, oh, ow),
    label: s.label ? resizeNearest(s.label, s.height, s.width, oh, ow) : undefined,
  };
}

/** Pads bottom/right to at least oh×ow: the image with `fill` (RGB), the label with `ignore`. */
export function padSample(s: Sample, oh: number, ow: number, fill: readonly number[], ignore: number): Sample {
  const H = Math.max(oh, s.height);
  const W = Math.max(ow, s.width);
  if (H === s.height && W === s.width) return s;
  const image = new Float32Array(H * W * 3);
  for (let i = 0; i < H * W; i++) {
    image[i * 3] = fill[0] ?? 0;
    image[i * 3 + 1] = fill[1] ?? 0;
    image[i * 3 + 2] = fill[2] ?? 0;
  }
  for (let y = 0; y < s.height; y++) image.set(s.image.subarray(y * s.width * 3, (y + 1) * s.width * 3), y * W * 3);
  let label: Uint8Array | undefined;
  if (s.label) {
    label = new Uint8Array(H * W).fill(ignore);
    for (let y = 0; y < s.height; y++) label.set(s.label.subarray(y * s.width, (y + 1) * s.width), y * W);
  }
  return { ...s, height: H, width: W, image, label };
}

/** The oh×ow window at (top, left); the window must lie inside the sample. */
export function cropSample(s: Sample, top: number, left: number, oh: number, ow: number): Sample {
  if (top < 0 || left < 0 || top + oh > s.height || left + ow > s.width) {
    throw new Error(`crop ${oh}×${ow} at (${top}, ${left}) outside a ${s.height}×${s.width} sample`);
  }
  if (top === 0 && left === 0 && oh === s.height && ow === s.width) return s;
  const image = new Float32Array(oh * ow * 3);
  const label = s.label ? new Uint8Array(oh * ow) : undefined;
  for (let y = 0; y < oh; y++) {
    const srcRow = (top + y) * s.width + left;
    image.set(s.image.subarray(srcRow * 3, (srcRow + ow) * 3), y * ow * 3);
    if (label && s.label) label.set(s.label.subarray(srcRow, srcRow + ow), y * ow);
  }
  return { ...s, height: oh, width: ow, image, label };
}

/** Horizontal flip of image and label. */
export function flipSample(s: Sample): Sample {
  const { height: H, width: W } = s;
  const src = s.image;
  const image = new Float32Array(src.length);
  for (let y = 0; y < H; y++) {
    const row = y * W;
    for (let x = 0; x < W; x++) {
      const a = (row + x) * 3;
      const b = (row + W - 1 - x) * 3;
      image[b] = src[a] as number;
      image[b + 1] = src[a + 1] as number;
      image[b + 2] = src[a + 2] as number;
    }
  }
  let label: Uint8Array | undefined;
  if (s.label) {
    label = new Uint8Array(s.label.length);
    label.set(s.label);
    for (let y = 0; y < H; y++) label.subarray(y * W, (y + 1) * W).reverse(); // in the copy, not the input
  }
  return { ...s, image, label };
}

/**
 * The evaluation path's inverse: crops an H'×W' (row-major) prediction of a padded image back to
 * the original height×width. Works for any per-pixel array (class maps, or logits with `channels`).
 */
export function cropPrediction<T extends ArrayLike<number> & { subarray(begin: number, end: number): T; constructor: unknown }>(
  pred: T,
  paddedWidth: number,
  height: number,
  width: number,
  channels = 1,
): T {
  const Ctor = pred.constructor as new (n: number) => T & { set(src: ArrayLike<number>, offset: number): void };
  const out = new Ctor(height * width * channels);
  for (let y = 0; y < height; y++) {
    out.set(pred.subarray(y * paddedWidth * channels, (y * paddedWidth + width) * channels), y * width * channels);
  }
  return out;
}

/**
 * Resize to oh×ow, pad bottom/right to at least ch×cw, and crop the ch×cw window at (top, left),
 * in one pass that computes only the window's pixels. Equal to resizeSample → padSample →
 * cropSample, without materialising the resized image (a 1.6× scaled 500 px image is 4–5× a 321 px crop).
 */
export function resizePadCropSample(
  s: Sample,
  oh: number,
  ow: number,
  top: number,
  left: number,
  ch: number,
  cw: number,
  fill: readonly number[],
  ignore: number,
): Sample {
  if (oh === s.height && ow === s.width) return cropSample(padSample(s, ch, cw, fill, ignore), top, left, ch, cw);
  const { height: h, width: w } = s;
  const image = new Float32Array(ch * cw * 3);
  const label = s.label ? new Uint8Array(ch * cw) : undefined;
  const sy = h / oh;
  const sx = w / ow;
  // Per output column: bilinear taps and the nearest source column (half-pixel centres, as resizeSample).
  const x0s = new Int32Array(cw);
  const x1s = new Int32Array(cw);
  const fxs = new Float32Array(cw);
  const nxs = new Int32Array(cw);
  for (let x = 0; x < cw; x++) {
    const X = left + x;
    if (X >= ow) {
      x0s[x] = -1;
      continue;
    }
    const fx = Math.min(Math.max((X + 0.5) * sx - 0.5, 0), w - 1);
    const x0 = Math.floor(fx);
    x0s[x] = x0;
    x1s[x] = Math.min(x0 + 1, w - 1);
    fxs[x] = fx - x0;
    nxs[x] = Math.min(Math.floor((X + 0.5) * sx), w - 1);
  }
  const f0 = fill[0] ?? 0;
  const f1 = fill[1] ?? 0;
  const f2 = fill[2] ?? 0;
  for (let y = 0; y < ch; y++) {
    const Y = top + y;
    let o = y * cw * 3;
    if (Y >= oh) {
      for (let x = 0; x < cw; x++, o += 3) {
        image[o] = f0;
        image[o + 1] = f1;
        image[o + 2] = f2;
      }
      if (label) label.fill(ignore, y * cw, (y + 1) * cw);
      continue;
    }
    const fy = Math.min(Math.max((Y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = fy - y0;
    const r0 = y0 * w * 3;
    const r1 = y1 * w * 3;
    const nRow = Math.min(Math.floor((Y + 0.5) * sy), h - 1) * w;
    for (let x = 0; x < cw; x++, o += 3) {
      const x0 = x0s[x] as number;
      if (x0 < 0) {
        image[o] = f0;
        image[o + 1] = f1;
        image[o + 2] = f2;
        if (label) label[y * cw + x] = ignore;
        continue;
      }
      // The four bilinear weights once per pixel, channels unrolled (the hot loop of training on large images).
      const wx = fxs[x] as number;
      const w00 = (1 - wx) * (1 - wy);
      const w01 = wx * (1 - wy);
      const w10 = (1 - wx) * wy;
      const w11 = wx * wy;
      const p00 = r0 + x0 * 3;
      const p01 = r0 + (x1s[x] as number) * 3;
      const p10 = r1 + x0 * 3;
      const p11 = r1 + (x1s[x] as number) * 3;
      const src = s.image;
      image[o] = (src[p00] as number) * w00 + (src[p01] as number) * w01 + (src[p10] as number) * w10 + (src[p11] as number) * w11;
      image[o + 1] = (src[p00 + 1] as number) * w00 + (src[p01 + 1] as number) * w01 + (src[p10 + 1] as number) * w10 + (src[p11 + 1] as number) * w11;
      image[o + 2] = (src[p00 + 2] as number) * w00 + (src[p01 + 2] as number) * w01 + (src[p10 + 2] as number) * w10 + (src[p11 + 2] as number) * w11;
      if (label && s.label) label[y * cw + x] = s.label[nRow + (nxs[x] as number)] as number;
    }
  }
  return { ...s, height: ch, width: cw, image, label };
}
