/** Reading VOC-style list files into (id, image, label) entries. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError, type FileEntry } from '../../src/index.js';

export interface VocLayout {
  root: string;
  image_dir: string;
  image_ext: string;
  label_dir: string;
  label_ext: string;
}

/**
 * One entry per non-empty line. A line is either an id (`2007_000032`, the AdvSemiSeg lists) or two
 * paths relative to the root (`/JPEGImages/x.jpg /SegmentationClassAug/x.png`, the DeepLab lists).
 */
export function readVocList(listFile: string, layout: VocLayout, key: string): FileEntry[] {
  let text: string;
  try {
    text = readFileSync(listFile, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AblateError('data.missing-list', code === 'ENOENT' ? `list file ${listFile} does not exist` : `cannot read list file ${listFile} (${code})`, {
      where: { file: listFile, key },
      hint: code === 'ENOENT' ? 'Check dataset.root and the list path (relative paths resolve against the root). For mini-VOC run `ablate data mini-voc --out DIR`.' : undefined,
    });
  }
  const entries: FileEntry[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    let entry: FileEntry;
    if (parts.length === 1) {
      const id = parts[0] as string;
      entry = { id, image: path.join(layout.root, layout.image_dir, id + layout.image_ext), label: path.join(layout.root, layout.label_dir, id + layout.label_ext) };
    } else if (parts.length === 2) {
      const [img, lbl] = parts as [string, string];
      entry = { id: path.basename(img, path.extname(img)), image: path.join(layout.root, img.replace(/^\/+/, '')), label: path.join(layout.root, lbl.replace(/^\/+/, '')) };
    } else {
      throw new AblateError('data.bad-list', `${listFile}:${i + 1}: expected an id or 'image label' paths, got ${parts.length} fields`, { where: { file: listFile, line: i + 1, key } });
    }
    if (seen.has(entry.id)) throw new AblateError('data.bad-list', `${listFile}:${i + 1}: id '${entry.id}' is listed twice`, { where: { file: listFile, line: i + 1, key } });
    seen.add(entry.id);
    entries.push(entry);
  });
  if (entries.length === 0) {
    throw new AblateError('data.empty-list', `list file ${listFile} is empty: it names no samples`, { where: { file: listFile, key } });
  }
  return entries;
}
