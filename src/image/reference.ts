/** Image references: `host[:port]/repo[:tag|@digest]`, Docker Hub short names included. */
import { BulwarkError } from '../core/errors.js';
import { isDigest } from './digest.js';

export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';

const REPO_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;

/**
 * Parses a reference as Docker does: the first component is a registry when it has a '.', a ':' or
 * is "localhost"; otherwise the image is on Docker Hub ("alpine" → docker.io/library/alpine).
 * Without tag or digest the tag is "latest".
 */
export function parseImageReference(ref: string): ImageReference {
  const input = ref.trim().replace(/^docker:\/\//, '');
  const bad = (why: string) => new BulwarkError('USAGE', `invalid image reference "${ref}": ${why}`);
  if (!input) throw bad('empty');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw bad(`"${digest}" is not a sha256/sha512 digest`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  }
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
      registry = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (!REPO_RE.test(repository)) throw bad(`"${repository}" is not a valid repository name`);
  if (!tag && !digest) tag = 'latest';
  return { registry, repository, tag, digest };
}

export function formatReference(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}
