/**
 * Draws one mini-VOC image: a textured, noisy background with clutter strokes, then several coloured
 * objects at random scales and positions (later ones occlude earlier ones), then a 1-pixel void
 * band (255) around every visible object boundary, like VOC's.
 */
import { resizeBilinear, type SeededRng } from '../../../src/index.js';
import { GLYPH } from './glyphs.js';

export interface ComposeOptions {
  size: number;
  min_objects: number;
  max_objects: number;
  /** Object side as a fraction of the image side. */
  min_scale: number;
  max_scale: number;
  noise: number;
  /** Background clutter items (strokes and blobs) per image, drawn uniformly in this range. */
  min_clutter: number;
  max_clutter: number;
  /**
   * Digit stroke dilation, in pixels of the 28-px glyph (0 = MNIST's own strokes). MNIST strokes
   * are 2–3 of 28 px: at 64 px and output stride 8 a digit is thinner than one cell of the score map.
   */
  digit_stroke: number;
  /** Largest share of an object's box that earlier objects' boxes may cover (1 = any occlusion). */
  max_overlap: number;
  /** Largest share of an object's side that may lie outside the image. */
  max_outside: number;
  /**
   * Each object's shape is rotated by up to ± this many degrees and sheared by up to ± max_shear
   * (0 and 0 = the pool's shapes as they are): every placement becomes a shape of its own, so the
   * 690–800 training shapes per digit class stand for many more.
   */
  max_rotation: number;
  max_shear: number;
}

/** The values of the options above that draw exactly the images of the first mini-VOC recipe (format mini-voc/1). */
export const COMPOSE_LEGACY = { min_clutter: 2, max_clutter: 6, digit_stroke: 0, max_overlap: 1, max_outside: 1 / 3, max_rotation: 0, max_shear: 0 } as const;

export interface Composed {
  rgb: Uint8Array;
  label: Uint8Array;
}

function hsv(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const c = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6] as [number, number, number];
  return [c[0] * 255, c[1] * 255, c[2] * 255];
}

function randomColour(rng: SeededRng): [number, number, number] {
  return hsv(rng.next(), rng.uniform(0.2, 0.95), rng.uniform(0.25, 1));
}

/** Smooth blotches: a coarse random grid upsampled bilinearly. */
function valueNoise(rng: SeededRng, size: number, cells: number): Float32Array {
  const grid = new Float32Array(cells * cells);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.next() * 2 - 1;
  return resizeBilinear(grid, cells, cells, 1, size, size);
}

function background(rng: SeededRng, S: number): Float32Array {
  const img = new Float32Array(S * S * 3);
  const base = randomColour(rng);
  const second = randomColour(rng);
  const blotch = valueNoise(rng, S, rng.int(3, 8));
  const mix = valueNoise(rng, S, rng.int(2, 5));
  const amp = rng.uniform(15, 50);
  // A periodic pattern (stripes or checks) at a random angle and period, like fabric or tiles.
  const kind = rng.int(0, 3);
  const angle = rng.next() * Math.PI;
  const period = rng.uniform(3, 12);
  const pAmp = kind === 0 ? 0 : rng.uniform(8, 35);
  const ca = Math.cos(angle);
  const sa = Math.sin(angle);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const i = y * S + x;
      const u = (x * ca + y * sa) / period;
      const v = (-x * sa + y * ca) / period;
      const pattern = kind === 1 ? Math.sin(2 * Math.PI * u) : kind === 2 ? Math.sign(Math.sin(Math.PI * u) * Math.sin(Math.PI * v)) : 0;
      const t = Math.min(1, Math.max(0, 0.5 + (mix[i] as number) * 0.8));
      const shade = (blotch[i] as number) * amp + pattern * pAmp;
      for (let c = 0; c < 3; c++) img[i * 3 + c] = (base[c] as number) * (1 - t) + (second[c] as number) * t + shade;
    }
  }
  return img;
}

/** Background clutter: strokes and blobs in random colours, labeled background. */
function clutter(rng: SeededRng, img: Float32Array, S: number, min: number, max: number): void {
  const n = rng.int(min, max + 1);
  for (let k = 0; k < n; k++) {
    const col = randomColour(rng);
    if (rng.next() < 0.6) {
      // a stroke, about as thick as a digit's
      const x0 = rng.uniform(0, S), y0 = rng.uniform(0, S);
      const len = rng.uniform(0.15, 0.5) * S, ang = rng.next() * 2 * Math.PI;
      const bend = rng.uniform(-0.08, 0.08);
      const thick = rng.uniform(0.8, 2.2) * (S / 64);
      const steps = Math.ceil(len * 2);
      let x = x0, y = y0, a = ang;
      for (let s = 0; s < steps; s++) {
        x += Math.cos(a) * 0.5;
        y += Math.sin(a) * 0.5;
        a += bend;
        for (let yy = Math.floor(y - thick); yy <= Math.ceil(y + thick); yy++) {
          for (let xx = Math.floor(x - thick); xx <= Math.ceil(x + thick); xx++) {
            if (yy < 0 || xx < 0 || yy >= S || xx >= S) continue;
            const d = Math.hypot(xx - x, yy - y);
            if (d > thick) continue;
            const i = (yy * S + xx) * 3;
            for (let c = 0; c < 3; c++) img[i + c] = col[c] as number;
          }
        }
      }
    } else {
      // a soft ellipse
      const cx = rng.uniform(0, S), cy = rng.uniform(0, S);
      const rx = rng.uniform(0.04, 0.15) * S, ry = rng.uniform(0.04, 0.15) * S;
      for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(S, Math.ceil(cy + ry)); y++) {
        for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(S, Math.ceil(cx + rx)); x++) {
          const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
          if (d > 1) continue;
          const a = 0.7 * (1 - d);
          const i = (y * S + x) * 3;
          for (let c = 0; c < 3; c++) img[i + c] = (img[i + c] as number) * (1 - a) + (col[c] as number) * a;
        }
      }
    }
  }
}

/** Grey-level dilation of a 28×28 mask by a disk of radius r (pixels). */
function dilate(mask: Float32Array, r: number): Float32Array {
  if (r <= 0) return mask;
  const out = new Float32Array(mask.length);
  const R = Math.ceil(r);
  for (let y = 0; y < GLYPH; y++) {
    for (let x = 0; x < GLYPH; x++) {
      let m = 0;
      for (let dy = -R; dy <= R; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= GLYPH) continue;
        for (let dx = -R; dx <= R; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= GLYPH || dx * dx + dy * dy > r * r) continue;
          m = Math.max(m, mask[yy * GLYPH + xx] as number);
        }
      }
      out[y * GLYPH + x] = m;
    }
  }
  return out;
}

/**
 * Rotates (degrees) and shears a 28×28 mask about its centre: inverse mapping with bilinear
 * sampling, zero outside the glyph frame.
 */
export function warpGlyph(mask: Float32Array, degrees: number, shear: number): Float32Array {
  const out = new Float32Array(mask.length);
  const a = (degrees * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const c = (GLYPH - 1) / 2;
  // Forward map: shear x by y, then rotate; its inverse takes each output pixel to its source.
  for (let y = 0; y < GLYPH; y++) {
    for (let x = 0; x < GLYPH; x++) {
      const rx = cos * (x - c) + sin * (y - c);
      const ry = -sin * (x - c) + cos * (y - c);
      const sx = rx - shear * ry + c;
      const sy = ry + c;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= GLYPH || yy >= GLYPH ? 0 : (mask[yy * GLYPH + xx] as number));
      out[y * GLYPH + x] = (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
    }
  }
  return out;
}

interface Box {
  top: number;
  left: number;
  h: number;
  w: number;
}

/** Share of box a covered by the union-bound of the boxes before it (sum of pairwise overlaps, capped at 1). */
function covered(a: Box, earlier: readonly Box[]): number {
  let sum = 0;
  for (const b of earlier) {
    const ih = Math.min(a.top + a.h, b.top + b.h) - Math.max(a.top, b.top);
    const iw = Math.min(a.left + a.w, b.left + b.w) - Math.max(a.left, b.left);
    if (ih > 0 && iw > 0) sum += ih * iw;
  }
  return Math.min(1, sum / (a.h * a.w));
}

/** Placement tries per object when max_overlap < 1; the least covered try wins if none fits. */
const PLACEMENT_TRIES = 20;

export function compose(rng: SeededRng, o: ComposeOptions, pools: Float32Array[][]): Composed {
  const S = o.size;
  const img = background(rng, S);
  clutter(rng, img, S, o.min_clutter, o.max_clutter);
  const boxes: Box[] = [];
  const label = new Uint8Array(S * S);
  const depth = new Uint8Array(S * S);
  const count = rng.int(o.min_objects, o.max_objects + 1);
  for (let k = 0; k < count; k++) {
    const cls = rng.int(1, pools.length + 1);
    const pool = pools[cls - 1] as Float32Array[];
    const garment = cls > 10;
    const raw = pool[rng.int(0, pool.length)] as Float32Array;
    const solid = garment ? raw : dilate(raw, o.digit_stroke);
    // Draws only when asked for, so builds without warping keep their exact images.
    const glyph = o.max_rotation > 0 || o.max_shear > 0 ? warpGlyph(solid, rng.uniform(-o.max_rotation, o.max_rotation), rng.uniform(-o.max_shear, o.max_shear)) : solid;
    const side = rng.uniform(o.min_scale, o.max_scale) * S;
    const h = Math.max(6, Math.round(side * rng.uniform(0.85, 1.15)));
    const w = Math.max(6, Math.round(side * rng.uniform(0.85, 1.15)));
    const mask = resizeBilinear(glyph, GLYPH, GLYPH, 1, h, w);
    // At most max_outside of each side leaves the image; with max_overlap < 1, retry the position.
    const place = (): Box => {
      const outH = Math.min(Math.floor(h * o.max_outside), h - 1);
      const outW = Math.min(Math.floor(w * o.max_outside), w - 1);
      const top = rng.int(-outH, Math.max(-outH, S - h + outH) + 1);
      const left = rng.int(-outW, Math.max(-outW, S - w + outW) + 1);
      return { top, left, h, w };
    };
    let box = place();
    if (o.max_overlap < 1) {
      let best = covered(box, boxes);
      for (let t = 1; t < PLACEMENT_TRIES && best > o.max_overlap; t++) {
        const b = place();
        const c = covered(b, boxes);
        if (c < best) [box, best] = [b, c];
      }
    }
    boxes.push(box);
    const { top, left } = box;
    const col = randomColour(rng);
    const contrast = rng.uniform(0.45, 0.8); // how much the glyph's own shading shows
    const gain = garment ? 10 : 1.6;
    const threshold = garment ? 0.06 : 0.3;
    for (let y = 0; y < h; y++) {
      const Y = top + y;
      if (Y < 0 || Y >= S) continue;
      for (let x = 0; x < w; x++) {
        const X = left + x;
        if (X < 0 || X >= S) continue;
        const m = mask[y * w + x] as number;
        if (m < 0.02) continue;
        // Garments are solid silhouettes with dark printed detail; digits are strokes.
        const a = Math.min(1, m * gain);
        const shade = 1 - contrast + contrast * Math.min(1, m * (garment ? 1.3 : 1));
        const i = Y * S + X;
        for (let c = 0; c < 3; c++) img[i * 3 + c] = (img[i * 3 + c] as number) * (1 - a) + (col[c] as number) * shade * a;
        if (m > threshold) {
          label[i] = cls;
          depth[i] = k + 1;
        }
      }
    }
  }
  // Void band: a pixel next to a visible object that lies on top of it (outside the object's region).
  const out = label.slice();
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const i = y * S + x;
      const d = depth[i] as number;
      const l = label[i] as number;
      const above = (j: number) => (depth[j] as number) > d && (label[j] as number) !== l;
      if ((x > 0 && above(i - 1)) || (x < S - 1 && above(i + 1)) || (y > 0 && above(i - S)) || (y < S - 1 && above(i + S))) out[i] = 255;
    }
  }
  const rgb = new Uint8Array(S * S * 3);
  const sigma = rng.uniform(0.3, 1) * o.noise;
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.max(0, Math.min(255, Math.round((img[i] as number) + rng.normal() * sigma)));
  return { rgb, label: out };
}
