/**
 * Container metadata from OCI spec annotations (src/agent/containers.ts): the CRI-O keys (the
 * live runc test covers containerd's CRI keys), image reference splitting, cgroup ids. CRI-O does
 * not run here, so its annotations are written by hand from CRI-O's annotation constants.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fullContainerIdFromCgroup, infoFromAnnotations, splitImage } from '../../src/agent/index.js';

const ID = 'a'.repeat(12) + 'b'.repeat(52);

describe('container metadata from annotations', () => {
  it('reads CRI-O pod, container, image and pod labels', () => {
    const info = infoFromAnnotations(ID.slice(0, 12), {
      'io.kubernetes.cri-o.ContainerType': 'container',
      'io.kubernetes.container.name': 'api',
      'io.kubernetes.pod.name': 'api-5c6d7-abcde',
      'io.kubernetes.pod.namespace': 'payments',
      'io.kubernetes.pod.uid': 'u-1',
      'io.kubernetes.cri-o.ImageName': 'quay.io/bank/api@sha256:' + 'c'.repeat(64),
      'io.kubernetes.cri-o.Labels': JSON.stringify({
        app: 'api',
        tier: 'backend',
        'io.kubernetes.pod.name': 'api-5c6d7-abcde',
      }),
    });
    assert.deepEqual(info, {
      id: 'aaaaaaaaaaaa',
      type: 'cri-o',
      name: 'api',
      image: 'quay.io/bank/api@sha256:' + 'c'.repeat(64),
      imageRepository: 'quay.io/bank/api',
      imageDigest: 'sha256:' + 'c'.repeat(64),
      k8s: {
        podName: 'api-5c6d7-abcde',
        namespace: 'payments',
        podUid: 'u-1',
        labels: { app: 'api', tier: 'backend' },
      },
    });
  });

  it('splits image references with registry ports, tags and digests', () => {
    assert.deepEqual(splitImage('localhost:5000/team/app:2.1'), {
      repository: 'localhost:5000/team/app',
      tag: '2.1',
    });
    assert.deepEqual(splitImage('localhost:5000/team/app'), { repository: 'localhost:5000/team/app' });
    assert.deepEqual(splitImage('nginx:1.25@sha256:' + 'd'.repeat(64)), {
      repository: 'nginx',
      tag: '1.25',
      digest: 'sha256:' + 'd'.repeat(64),
    });
  });

  it('finds the full container id in cgroup v2 paths of runc, containerd and CRI-O', () => {
    assert.equal(fullContainerIdFromCgroup(`0::/${ID}`), ID);
    assert.equal(
      fullContainerIdFromCgroup(
        `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-${ID}.scope`,
      ),
      ID,
    );
    assert.equal(fullContainerIdFromCgroup(`0::/system.slice/crio-${ID}.scope`), ID);
    assert.equal(fullContainerIdFromCgroup('0::/user.slice/user-0.slice/session-3.scope'), undefined);
  });
});
