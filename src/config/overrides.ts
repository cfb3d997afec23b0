/**
 * Command-line overrides, spelled like the file operators:
 *   --set a.b=value     set (the value is YAML: 3, true, [1, 2], {type: adam}, null)
 *   --set a.b+=[x, y]   append to an inherited list
 *   --set a.b~          delete an inherited key
 * Paths into lists use the index (`dataset.transforms.1.size=321`). Grid axes keep their dots:
 * `--set sweep.grid.optimizer.lr=[0.01, 0.001]`.
 */
import { ConfigError, throwAll } from './errors.js';
import type { Layer } from './merge.js';
import type { Origin } from './origin.js';
import { parseYaml, type SourceLayer } from './yaml-source.js';

export type SetOp = 'set' | 'append' | 'delete';

export interface ParsedSet {
  flag: string;
  path: string;
  op: SetOp;
  value: unknown;
}

const PATH = /^[A-Za-z_][\w-]*(\.[\w-]+)*$/;

export function parseSet(raw: string): ParsedSet {
  const flag = `--set ${raw}`;
  const origin: Origin = { kind: 'set', flag };
  const hint = 'write --set a.b=value, --set a.b+=[item] or --set a.b~';
  let path: string;
  let op: SetOp;
  let text: string | undefined;
  const eq = raw.indexOf('=');
  if (eq < 0) {
    if (!raw.endsWith('~')) throw new ConfigError('config.bad-set', `'${flag}' has no '=': nothing to set`, { origin, hint });
    path = raw.slice(0, -1);
    op = 'delete';
  } else if (raw[eq - 1] === '+') {
    path = raw.slice(0, eq - 1);
    op = 'append';
    text = raw.slice(eq + 1);
  } else {
    path = raw.slice(0, eq);
    op = 'set';
    text = raw.slice(eq + 1);
  }
  path = path.trim();
  if (!PATH.test(path)) throw new ConfigError('config.bad-set', `'${flag}': '${path}' is not a dotted key path`, { origin, hint });
  const value = text === undefined ? null : text.trim() === '' ? null : valueOf(parseYaml(text, undefined, { origin, allowDottedKeysUnder: () => true }));
  if (op === 'append' && !Array.isArray(value)) {
    throw new ConfigError('config.bad-set', `'${flag}': += appends a list; write the value as a list, e.g. ${path}+=[${text ?? ''}]`, { origin, hint });
  }
  return { flag, path, op, value };
}

/** A flag's value must be all data: a node error (a tag, a duplicate key) rejects the flag. */
function valueOf(layer: SourceLayer): unknown {
  throwAll(layer.problems);
  return layer.value;
}

/** The override as a layer: a nested map whose last key carries the operator suffix. */
export function setLayer(s: ParsedSet): Layer {
  let segments = s.path.split('.');
  // A grid axis is a dotted path itself: keep it as one key under sweep.grid.
  if (segments[0] === 'sweep' && segments[1] === 'grid' && segments.length > 3) segments = ['sweep', 'grid', segments.slice(2).join('.')];
  const last = segments[segments.length - 1] + (s.op === 'append' ? '+' : s.op === 'delete' ? '~' : '');
  let value: unknown = { [last]: s.value };
  for (let i = segments.length - 2; i >= 0; i--) value = { [segments[i]!]: value };
  return { value, origins: new Map(), fallback: { kind: 'set', flag: s.flag } };
}
