/**
 * Maven versions, ordered per the POM reference's "version order specification" (Maven's
 * ComparableVersion): the version is split into numbers and qualifiers at ".", "-" and at
 * transitions between digits and letters; "-" (and a digit/letter transition, and a final
 * qualifier) opens a nested list; trailing "null" items (0, "", "final", "ga", "release") are dropped; qualifiers order
 * alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp < any other
 * (others alphabetically, case-insensitively); "a1", "b1", "m1" mean alpha-1, beta-1,
 * milestone-1; a number is greater than a qualifier and than a nested list.
 */
import { compareDigits, invalidVersion } from './errors.js';
import type { VersionScheme } from './types.js';

type Item = { kind: 'int'; value: string } | { kind: 'str'; value: string } | { kind: 'list'; items: Item[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE_INDEX = String(QUALIFIERS.indexOf(''));

/** A sortable key for a qualifier: known ones by rank, unknown ones after all known ones. */
function qualifierKey(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i >= 0 ? String(i) : `${QUALIFIERS.length}-${q}`;
}

function strItem(value: string, followedByDigit: boolean): Item {
  let v = value;
  if (followedByDigit && v.length === 1) v = { a: 'alpha', b: 'beta', m: 'milestone' }[v] ?? v;
  return { kind: 'str', value: ALIASES[v] ?? v };
}

function parseItem(isDigit: boolean, buf: string): Item {
  return isDigit ? { kind: 'int', value: buf.replace(/^0+(?=.)/, '') } : strItem(buf, false);
}

function isNull(item: Item): boolean {
  if (item.kind === 'int') return /^0+$/.test(item.value);
  if (item.kind === 'str') return qualifierKey(item.value) === RELEASE_INDEX;
  return item.items.length === 0;
}

/** Drops trailing null items, stopping at the first non-null non-list item. */
function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const it = list[i]!;
    if (isNull(it)) list.splice(i, 1);
    else if (it.kind !== 'list') break;
  }
}

export function parseMaven(version: string): Item[] {
  const v = version.trim().toLowerCase();
  const root: Item[] = [];
  let list = root;
  const stack: Item[][] = [root];
  let isDigit = false;
  let start = 0;
  const push = (): void => {
    const next: Item[] = [];
    list.push({ kind: 'list', items: next });
    list = next;
    stack.push(next);
  };
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '.') {
      list.push(i === start ? { kind: 'int', value: '0' } : parseItem(isDigit, v.slice(start, i)));
      start = i + 1;
    } else if (c === '-') {
      list.push(i === start ? { kind: 'int', value: '0' } : parseItem(isDigit, v.slice(start, i)));
      start = i + 1;
      push();
    } else if (c >= '0' && c <= '9') {
      if (!isDigit && i > start) {
        // A qualifier followed by a number ("RC1") is its own sub-list, as after a hyphen
        // (Maven 3.9: 5.3.0.RC1 == 5.3.0-RC1 < 5.3.0-SNAPSHOT).
        if (list.length > 0) push();
        list.push(strItem(v.slice(start, i), true));
        start = i;
        push();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.push(parseItem(true, v.slice(start, i)));
        start = i;
        push();
      }
      isDigit = false;
    }
  }
  if (v.length > start) {
    // A final qualifier after a dot is read as if after a hyphen (Maven 3.9: 1.0.0.X1 < 1.0.0-X2).
    if (!isDigit && list.length > 0) push();
    list.push(parseItem(isDigit, v.slice(start)));
  }
  while (stack.length) normalize(stack.pop()!);
  return root;
}

/** Compares an item with another or with "nothing" (b undefined). */
function compareItem(a: Item, b: Item | undefined): number {
  if (a.kind === 'int') {
    if (b === undefined) return /^0+$/.test(a.value) ? 0 : 1;
    return b.kind === 'int' ? compareDigits(a.value, b.value) : 1;
  }
  if (a.kind === 'str') {
    if (b === undefined) return cmp(qualifierKey(a.value), RELEASE_INDEX);
    if (b.kind === 'int' || b.kind === 'list') return -1;
    return cmp(qualifierKey(a.value), qualifierKey(b.value));
  }
  if (b === undefined) {
    for (const it of a.items) {
      const r = compareItem(it, undefined);
      if (r !== 0) return r;
    }
    return 0;
  }
  if (b.kind === 'int') return -1;
  if (b.kind === 'str') return 1;
  return compareLists(a.items, b.items);
}

function compareLists(a: Item[], b: Item[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const l = a[i];
    const r = b[i];
    const d = l === undefined ? -compareItem(r!, undefined) : compareItem(l, r);
    if (d !== 0) return d;
  }
  return 0;
}

const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

function isValidMaven(v: string): boolean {
  const t = v.trim();
  return t !== '' && !/[\s/\\]/.test(t) && /[0-9A-Za-z]/.test(t);
}

export function compareMaven(a: string, b: string): number {
  if (!isValidMaven(a)) throw invalidVersion('maven', a);
  if (!isValidMaven(b)) throw invalidVersion('maven', b);
  return compareLists(parseMaven(a), parseMaven(b));
}

export const maven: VersionScheme = {
  name: 'maven',
  isValid: isValidMaven,
  compare: compareMaven,
};
