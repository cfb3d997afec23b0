/**
 * The PASCAL VOC colour palette (the bit-interleaving scheme of the VOC devkit's `labelcolormap`)
 * and class names: how VOC's colour label PNGs (`SegmentationClass/`) map to class indices, and
 * how the `voc` and `mini-voc` plugins write and read them.
 */

/** RGB triples for indices 0..255 (index 255, void, is (224, 224, 192) as in VOC). */
export function vocPalette(): Uint8Array {
  const pal = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    let c = i;
    let r = 0;
    let g = 0;
    let b = 0;
    for (let j = 0; j < 8; j++) {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
      c >>= 3;
    }
    pal[i * 3] = r;
    pal[i * 3 + 1] = g;
    pal[i * 3 + 2] = b;
  }
  return pal;
}

export const VOC_CLASSES: readonly string[] = [
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
];
