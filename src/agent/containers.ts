/**
 * Container and pod metadata for the live agent, read from the OCI runtime's own state — no
 * container-runtime API, no kubelet: runc (and crun) keep `<root>/<container id>/state.json`, whose
 * `config.labels` name the bundle; the bundle's `config.json` carries the annotations the
 * container manager wrote: containerd's CRI plugin (`io.kubernetes.cri.*`), CRI-O
 * (`io.kubernetes.pod.*`, `io.kubernetes.cri-o.*`), and the generic `org.opencontainers.image.*`.
 *
 * Roots searched (each holds one directory per container id):
 *   /run/runc                                   runc run / runc create
 *   /run/containerd/runc/<namespace>            containerd (k8s.io for Kubernetes, moby for Docker)
 *   /run/docker/runtime-runc/<namespace>        dockerd's runc root
 *   /run/crun                                   crun
 * Lookups are cached per container id (bounded), and a miss is cached briefly so a host-wide
 * flood of events from one unknown container costs one directory scan per few seconds.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerInfo, ContainerResolver } from '../runtime/state/index.js';

export const DEFAULT_RUNTIME_ROOTS = [
  '/run/runc',
  '/run/containerd/runc/*',
  '/run/docker/runtime-runc/*',
  '/run/crun',
];

const FULL_ID_PATTERNS = [
  /(?:docker|cri-containerd|crio|libpod|containerd)-([0-9a-f]{64})\.scope/,
  /\/([0-9a-f]{64})(?:\/|$)/,
];

/** The full 64-hex container id from a cgroup line ("0::/…/<id>"), if there is one. */
export function fullContainerIdFromCgroup(cg: string): string | undefined {
  for (const re of FULL_ID_PATTERNS) {
    const m = re.exec(cg);
    if (m) return m[1];
  }
  return undefined;
}

/** Splits an image reference into repository, tag and digest (docker.io/library/nginx:1.25@sha256:…). */
export function splitImage(ref: string): { repository: string; tag?: string; digest?: string } {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { repository: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Container metadata from an OCI runtime spec's annotations (CRI-containerd, CRI-O, OCI image). */
export function infoFromAnnotations(id: string, a: Record<string, string>): ContainerInfo {
  const info: ContainerInfo = { id, type: 'runc' };
  const name =
    a['io.kubernetes.cri.container-name'] ??
    a['io.kubernetes.container.name'] ??
    a['io.kubernetes.cri-o.ContainerName'] ??
    a['org.opencontainers.container.name'];
  if (name) info.name = name;
  const image =
    a['io.kubernetes.cri.image-name'] ??
    a['io.kubernetes.cri-o.ImageName'] ??
    a['org.opencontainers.image.ref.name'] ??
    a['org.opencontainers.image.base.name'];
  if (image) {
    info.image = image;
    const s = splitImage(image);
    info.imageRepository = s.repository;
    if (s.tag) info.imageTag = s.tag;
    if (s.digest) info.imageDigest = s.digest;
  }
  const digest = a['org.opencontainers.image.base.digest'] ?? a['io.kubernetes.cri-o.ImageRef'];
  if (digest && /^sha256:[0-9a-f]{64}$/.test(digest)) info.imageDigest = digest;
  const pod = a['io.kubernetes.cri.sandbox-name'] ?? a['io.kubernetes.pod.name'];
  const ns = a['io.kubernetes.cri.sandbox-namespace'] ?? a['io.kubernetes.pod.namespace'];
  const uid = a['io.kubernetes.cri.sandbox-uid'] ?? a['io.kubernetes.pod.uid'];
  if (pod || ns || uid) {
    info.type = a['io.kubernetes.cri-o.ContainerType'] !== undefined ? 'cri-o' : 'containerd';
    info.k8s = {};
    if (pod) info.k8s.podName = pod;
    if (ns) info.k8s.namespace = ns;
    if (uid) info.k8s.podUid = uid;
    const labels = a['io.kubernetes.cri-o.Labels'];
    if (labels) {
      try {
        const l = JSON.parse(labels) as Record<string, string>;
        const podLabels = Object.fromEntries(
          Object.entries(l).filter(([k]) => !k.startsWith('io.kubernetes.')),
        );
        if (Object.keys(podLabels).length) info.k8s.labels = podLabels;
      } catch {
        /* not JSON: no labels */
      }
    }
  }
  return info;
}

interface CacheEntry {
  info: ContainerInfo | undefined;
  at: number;
}

export interface RuntimeResolverOptions {
  /** runtime state roots; a trailing `/*` means every subdirectory (namespaces) */
  roots?: string[];
  /** cache bound (default 4096 containers) */
  max?: number;
  /** how long a miss is remembered, ms (default 2000): the container may not be registered yet */
  missTtlMs?: number;
}

/**
 * A ContainerResolver for the live agent: the container id from the thread's cgroup, then the
 * metadata from the OCI runtime's state (see the file comment). A container whose state cannot
 * be found still gets its id (as Falco reports a container it has no metadata for).
 */
export class RuntimeStateResolver implements ContainerResolver {
  private readonly roots: string[];
  private readonly cache = new Map<string, CacheEntry>();
  private readonly max: number;
  private readonly missTtl: number;

  constructor(opts: RuntimeResolverOptions = {}) {
    this.roots = opts.roots ?? DEFAULT_RUNTIME_ROOTS;
    this.max = opts.max ?? 4096;
    this.missTtl = opts.missTtlMs ?? 2000;
  }

  resolve(hint: {
    pid: number;
    cgroups?: string[];
    cgroupId?: bigint;
    containerId?: string;
  }): ContainerInfo | undefined {
    if (hint.containerId === 'host') return undefined;
    let full: string | undefined;
    for (const cg of hint.cgroups ?? []) {
      full = fullContainerIdFromCgroup(cg);
      if (full) break;
    }
    const short = full?.slice(0, 12) ?? hint.containerId;
    if (!short) return undefined;
    return this.lookup(full ?? short) ?? { id: short };
  }

  /** Metadata for a container id (full, or a 12-hex prefix), cached. */
  lookup(id: string): ContainerInfo | undefined {
    const short = id.slice(0, 12);
    const hit = this.cache.get(short);
    const now = Date.now();
    if (hit && (hit.info || now - hit.at < this.missTtl)) return hit.info;
    const info = this.read(id);
    if (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(short, { info, at: now });
    return info;
  }

  private *rootDirs(): Generator<string> {
    for (const r of this.roots) {
      if (!r.endsWith('/*')) {
        yield r;
        continue;
      }
      const parent = r.slice(0, -2);
      let names: string[];
      try {
        names = readdirSync(parent);
      } catch {
        continue;
      }
      for (const n of names) yield join(parent, n);
    }
  }

  private read(id: string): ContainerInfo | undefined {
    for (const root of this.rootDirs()) {
      let dir: string | undefined;
      if (id.length === 64) {
        if (existsSync(join(root, id, 'state.json'))) dir = join(root, id);
      } else {
        try {
          const n = readdirSync(root).find((d) => d.startsWith(id));
          if (n) dir = join(root, n);
        } catch {
          /* no such root */
        }
      }
      if (!dir) continue;
      try {
        const st = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
          id?: string;
          config?: { labels?: string[] };
        };
        const fullId = st.id ?? id;
        const bundle = st.config?.labels?.find((l) => l.startsWith('bundle='))?.slice('bundle='.length);
        let ann: Record<string, string> = {};
        if (bundle) {
          const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
            annotations?: Record<string, string>;
          };
          ann = spec.annotations ?? {};
        }
        return infoFromAnnotations(fullId.slice(0, 12), ann);
      } catch {
        return { id: id.slice(0, 12), type: 'runc' };
      }
    }
    return undefined;
  }
}
