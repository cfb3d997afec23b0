/**
 * Dotted key paths (`model.depth`, `dataset.transforms.0.type`). List items are addressed by their
 * index. Keys that themselves contain dots are not supported in experiments (the schema forbids
 * them everywhere except the free-form `sweep.grid` map, whose keys *are* dotted paths).
 */
export function joinPath(parent: string, key: string | number): string {
  return parent === '' ? String(key) : `${parent}.${key}`;
}

export function splitPath(path: string): string[] {
  return path === '' ? [] : path.split('.');
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a dotted path, or `undefined` (and `found: false`) when any segment is missing. */
export function getPath(root: unknown, path: string): { found: boolean; value: unknown } {
  let cur: unknown = root;
  for (const seg of splitPath(path)) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg) || Number(seg) >= cur.length) return { found: false, value: undefined };
      cur = cur[Number(seg)];
    } else if (isPlainObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, seg)) return { found: false, value: undefined };
      cur = cur[seg];
    } else return { found: false, value: undefined };
  }
  return { found: true, value: cur };
}

/** A structural deep copy of JSON-like data (plain objects, arrays, scalars). */
export function cloneJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = cloneJson(v[k]);
    return out as T;
  }
  return v;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Every dotted path in `paths` that is `prefix` itself or lies under it. */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || (path.length > prefix.length && path.startsWith(prefix) && path[prefix.length] === '.');
}
