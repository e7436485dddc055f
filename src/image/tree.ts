/**
 * The layered filesystem view: a tree of entries (metadata only) to which layers are applied in
 * order. It implements the FileIndex contract of the final filesystem.
 *
 * Every stored entry gets a sequence number; a file version analyzed while streaming is still
 * present at the end exactly when the tree still holds that sequence number at its path. This is
 * how records of 'final' analyzers are filtered after whiteouts, opaque dirs and overwrites.
 */
import type { FileEntry, FileIndex } from '../core/analyzer.js';
import { joinPath, splitPath } from './paths.js';

interface Node {
  entry: FileEntry;
  seq: number;
  children?: Map<string, Node>;
}

/** Maximum symlinks followed while resolving one path (as Linux's MAXSYMLINKS). */
const MAX_LINKS = 40;

export class FileTree implements FileIndex {
  private readonly root: Node = {
    entry: { path: '/', type: 'dir', size: 0, mode: 0o755 },
    seq: 0,
    children: new Map(),
  };
  private count = 0;
  private nextSeq = 1;

  get size(): number {
    return this.count;
  }

  /** Adds or replaces the entry at entry.path (absolute, normalized); returns its sequence number. */
  put(entry: FileEntry): number {
    const parts = splitPath(entry.path);
    if (parts.length === 0) return 0; // the root itself
    let dir = this.root;
    let path = '/';
    for (let i = 0; i < parts.length - 1; i++) {
      path = joinPath(path, parts[i]!);
      let child = dir.children!.get(parts[i]!);
      if (!child || !child.children) {
        // Missing parent, or a non-directory in the way: an implicit directory takes its place.
        // Entries are placed by name only; symlinks are never followed while applying a layer.
        if (child) this.count -= countNodes(child);
        child = {
          entry: { path, type: 'dir', size: 0, mode: 0o755, layer: entry.layer },
          seq: this.nextSeq++,
          children: new Map(),
        };
        dir.children!.set(parts[i]!, child);
        this.count++;
      }
      dir = child;
    }
    const name = parts[parts.length - 1]!;
    const old = dir.children!.get(name);
    const seq = this.nextSeq++;
    if (old && old.children && entry.type === 'dir') {
      // A directory over a directory merges: the children stay.
      old.entry = entry;
      old.seq = seq;
      return seq;
    }
    if (old) this.count -= countNodes(old);
    dir.children!.set(name, { entry, seq, children: entry.type === 'dir' ? new Map() : undefined });
    this.count++;
    return seq;
  }

  /**
   * Whiteout ".wh.NAME" in layer `layerIndex`: removes what lower layers put at path (and below).
   * As the OCI spec says, it does not hide entries of its own layer, whatever their order in the tar.
   * Without a layer index (not an image) the path goes unconditionally.
   */
  remove(path: string, layerIndex?: number): void {
    const parts = splitPath(path);
    if (parts.length === 0) return;
    const parent = this.lookup(parts.slice(0, -1));
    const name = parts[parts.length - 1]!;
    const node = parent?.children?.get(name);
    if (!parent || !node) return;
    if (layerIndex !== undefined) {
      if (node.entry.layer?.index === layerIndex) return;
      if (node.children) {
        this.pruneLower(node, layerIndex);
        if (node.children.size > 0) return; // same-layer entries below it keep the directory
      }
      parent.children!.delete(name);
      this.count--;
      return;
    }
    parent.children!.delete(name);
    this.count -= countNodes(node);
  }

  /**
   * Opaque directory (".wh..wh..opq" in layer `layerIndex`): hides everything below dir that lower
   * layers wrote; entries of the same layer (whatever their order in the tar) stay.
   */
  makeOpaque(dir: string, layerIndex: number): void {
    const node = this.lookup(splitPath(dir));
    if (node?.children) this.pruneLower(node, layerIndex);
  }

  /** Removes every descendant written before layer `layerIndex`, keeping the same layer's ones. */
  private pruneLower(n: Node, layerIndex: number): void {
    for (const [name, child] of n.children!) {
      const sameLayer = child.entry.layer?.index === layerIndex;
      if (child.children) this.pruneLower(child, layerIndex);
      if (!sameLayer && !(child.children && child.children.size > 0)) {
        n.children!.delete(name);
        this.count--;
      }
    }
  }

  get(path: string): FileEntry | undefined {
    return this.lookup(splitPath(path))?.entry;
  }

  /** Sequence number of the entry at path (0 if absent). */
  seqOf(path: string): number {
    return this.lookup(splitPath(path))?.seq ?? 0;
  }

  /**
   * Follows symlinks in every component, inside the root only: absolute targets start again at the
   * artifact root; a ".." above the root, a missing component, a non-directory in the middle or
   * more than 40 links give undefined.
   */
  resolve(path: string): string | undefined {
    const pending = splitPath(path).reverse(); // stack: next component at the end
    const stack: Node[] = [this.root];
    const names: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const part = pending.pop()!;
      if (part === '.') continue;
      if (part === '..') {
        if (names.length === 0) return undefined;
        names.pop();
        stack.pop();
        continue;
      }
      const cur = stack[stack.length - 1]!;
      if (!cur.children) return undefined;
      const child = cur.children.get(part);
      if (!child) return undefined;
      if (child.entry.type === 'symlink') {
        if (++links > MAX_LINKS) return undefined;
        const target = child.entry.linkTarget ?? '';
        if (target.startsWith('/')) {
          names.length = 0;
          stack.length = 1;
        }
        const t = target.split('/').filter((p) => p !== '');
        for (let i = t.length - 1; i >= 0; i--) pending.push(t[i]!);
        continue;
      }
      names.push(part);
      stack.push(child);
    }
    return `/${names.join('/')}`;
  }

  *paths(): Iterable<string> {
    const todo: Node[] = [this.root];
    while (todo.length > 0) {
      const n = todo.pop()!;
      if (n !== this.root) yield n.entry.path;
      if (n.children) for (const c of n.children.values()) todo.push(c);
    }
  }

  private lookup(parts: string[]): Node | undefined {
    let n: Node | undefined = this.root;
    for (const p of parts) {
      n = n.children?.get(p);
      if (!n) return undefined;
    }
    return n;
  }
}

function countNodes(n: Node): number {
  let c = 1;
  if (n.children) for (const ch of n.children.values()) c += countNodes(ch);
  return c;
}
