/**
 * Built-in checks against the failing and passing examples of two other scanners' checks:
 * - trivy-checks (checks/{kubernetes,docker}/*.yaml: `good` and `bad` examples per check)
 * - polaris (test/checks/<check>/failure*.yaml and success*.yaml)
 * Where a Bulwark check corresponds to theirs, it must fail on every failing example and pass on
 * every passing one. Cases where Bulwark deliberately rates differently are listed with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { scanText, idsOf } from './helpers.js';
import { SHARED } from '../helpers/shared.js';

const TRIVY = `${SHARED}/corpora/trivy-checks/checks`;
const POLARIS = `${SHARED}/corpora/polaris/test/checks`;

const TRIVY_MAP: Record<string, string> = {
  'kubernetes/CPU_not_limited': 'BW-K8S-022',
  'kubernetes/CPU_requests_not_specified': 'BW-K8S-024',
  'kubernetes/SYS_ADMIN_capability': 'BW-K8S-032',
  'kubernetes/access_to_host_ports': 'BW-K8S-006',
  'kubernetes/apparmor_policy_disabled': 'BW-K8S-008',
  'kubernetes/can_elevate_its_own_privileges': 'BW-K8S-015',
  'kubernetes/capabilities_no_drop_all': 'BW-K8S-019',
  'kubernetes/file_system_not_read_only': 'BW-K8S-021',
  'kubernetes/host_ipc': 'BW-K8S-003',
  'kubernetes/host_network': 'BW-K8S-004',
  'kubernetes/host_pid': 'BW-K8S-002',
  'kubernetes/hostpath_volumes_mounted': 'BW-K8S-005',
  'kubernetes/memory_not_limited': 'BW-K8S-023',
  'kubernetes/memory_requests_not_specified': 'BW-K8S-025',
  'kubernetes/mounts_docker_socket': 'BW-K8S-020',
  'kubernetes/non_core_volume_types': 'BW-K8S-014',
  'kubernetes/non_default_proc_masks_set': 'BW-K8S-010',
  'kubernetes/privileged': 'BW-K8S-001',
  'kubernetes/protecting_pod_service_account_tokens': 'BW-K8S-028',
  'kubernetes/runs_as_root': 'BW-K8S-016',
  'kubernetes/runtime_default_seccomp_profile_not_set': 'BW-K8S-018',
  'kubernetes/selinux_custom_options_set': 'BW-K8S-009',
  'kubernetes/specific_capabilities_added': 'BW-K8S-007',
  'kubernetes/unsafe_sysctl_options_set': 'BW-K8S-012',
  'kubernetes/uses_image_tag_latest': 'BW-K8S-026',
  'docker/add_instead_of_copy': 'BW-DF-003',
  'docker/apt_get_missing_yes_flag_to_avoid_manual_input': 'BW-DF-015',
  'docker/copy_from_references_current_from_alias': 'BW-DF-020',
  'docker/copy_with_more_than_two_arguments_not_ending_with_slash': 'BW-DF-028',
  'docker/latest_tag': 'BW-DF-004',
  'docker/maintainer_is_deprecated': 'BW-DF-016',
  'docker/missing_dnf_clean_all': 'BW-DF-023',
  'docker/missing_zypper_clean': 'BW-DF-024',
  'docker/multiple_cmd_instructions_listed': 'BW-DF-012',
  'docker/multiple_entrypoint_instructions_listed': 'BW-DF-013',
  'docker/multiple_healthcheck_instructions': 'BW-DF-014',
  'docker/port22': 'BW-DF-010',
  'docker/root_user': 'BW-DF-001',
  'docker/run_apt_get_dist_upgrade': 'BW-DF-026',
  'docker/run_command_cd_instead_of_workdir': 'BW-DF-018',
  'docker/run_using_sudo': 'BW-DF-009',
  'docker/run_using_wget_and_curl': 'BW-DF-027',
  'docker/same_alias_in_different_froms': 'BW-DF-021',
  'docker/unix_ports_out_of_range': 'BW-DF-019',
  'docker/update_instruction_alone': 'BW-DF-011',
  'docker/workdir_path_not_absolute': 'BW-DF-017',
  'docker/yum_clean_all_missing': 'BW-DF-022',
};

const POLARIS_MAP: Record<string, string> = {
  automountServiceAccountToken: 'BW-K8S-028',
  clusterrolePodExecAttach: 'BW-RBAC-003',
  rolePodExecAttach: 'BW-RBAC-003',
  cpuLimitsMissing: 'BW-K8S-022',
  cpuRequestsMissing: 'BW-K8S-024',
  memoryLimitsMissing: 'BW-K8S-023',
  memoryRequestsMissing: 'BW-K8S-025',
  dangerousCapabilities: 'BW-K8S-032',
  insecureCapabilities: 'BW-K8S-019',
  hostIPCSet: 'BW-K8S-003',
  hostNetworkSet: 'BW-K8S-004',
  hostPIDSet: 'BW-K8S-002',
  hostPathSet: 'BW-K8S-005',
  hostPortSet: 'BW-K8S-006',
  hostProcess: 'BW-K8S-013',
  livenessProbeMissing: 'BW-K8S-030',
  readinessProbeMissing: 'BW-K8S-031',
  notReadOnlyRootFilesystem: 'BW-K8S-021',
  privilegeEscalationAllowed: 'BW-K8S-015',
  procMount: 'BW-K8S-010',
  runAsPrivileged: 'BW-K8S-001',
  runAsRootAllowed: 'BW-K8S-016',
  tagNotSpecified: 'BW-K8S-026',
  sensitiveContainerEnvVar: 'BW-K8S-033',
  tlsSettingsMissing: 'BW-K8S-041',
};

/** Example (corpus path, and index for trivy) → why Bulwark rates it differently. */
const POLARIS_INSECURE_CAPS =
  'PSS Restricted (BW-K8S-019) requires drop: [ALL] literally; dropping each default capability by name is not accepted';
const DIFFERS: Record<string, string> = {
  'trivy kubernetes/protecting_pod_service_account_tokens good[0]':
    'trivy flags only an explicit token volume mount; the token is mounted by default, so BW-K8S-028 (CIS 5.1.6) requires automountServiceAccountToken: false',
  'trivy kubernetes/specific_capabilities_added bad[0]':
    'adding NET_BIND_SERVICE is allowed by the PSS Baseline profile that BW-K8S-007 implements (Restricted allows it too)',
  'polaris automountServiceAccountToken/success.serviceaccount.yaml':
    'BW-K8S-028 rates the pod spec alone (its ServiceAccount may live elsewhere); the ServiceAccount side is BW-RBAC-009',
  'polaris clusterrolePodExecAttach/success.gce_calico_clusterrole.yaml':
    'polaris exempts a GKE Calico role by name; Bulwark exempts only Kubernetes default roles',
  'polaris rolePodExecAttach/success.gce_calico_binding.yaml': 'same GKE Calico exemption',
  'polaris clusterrolePodExecAttach/success.system_prefix.yaml':
    'polaris exempts any role named system:*; Bulwark exempts only the roles Kubernetes creates, by exact name, so a custom "system:test" with */*/* is reported',
  'polaris rolePodExecAttach/success.system_prefix_binding.yaml':
    'same: a custom Role named system:* is not a Kubernetes default role',
  'polaris insecureCapabilities/success.all.yaml': POLARIS_INSECURE_CAPS,
  'polaris insecureCapabilities/success.case.yaml': POLARIS_INSECURE_CAPS,
  'polaris insecureCapabilities/success.pod.yaml': POLARIS_INSECURE_CAPS,
  'polaris insecureCapabilities/success.yaml': POLARIS_INSECURE_CAPS,
};

function mismatch(
  list: string[],
  key: string,
  check: string,
  text: string,
  file: string,
  type: 'dockerfile' | 'yaml',
  expectFail: boolean,
) {
  if (DIFFERS[key]) return;
  const flagged = idsOf(scanText(text, file, type)).has(check);
  if (flagged !== expectFail) list.push(`${key}: ${check} should ${expectFail ? 'fail' : 'pass'}`);
}

test('trivy-checks good/bad examples', () => {
  const bad: string[] = [];
  let n = 0;
  for (const [name, check] of Object.entries(TRIVY_MAP)) {
    const doc = parseYaml(readFileSync(join(TRIVY, `${name}.yaml`), 'utf8')) as Record<
      string,
      { good?: string[]; bad?: string[] }
    >;
    const type = name.startsWith('docker/') ? 'dockerfile' : 'yaml';
    const ex = doc.dockerfile ?? doc.kubernetes ?? doc.yaml;
    assert.ok(ex, `${name}: no examples`);
    assert.ok(ex.good?.length || ex.bad?.length, `${name}: no examples`);
    (ex.good ?? []).forEach(
      (t, i) => (
        n++,
        mismatch(
          bad,
          `trivy ${name} good[${i}]`,
          check,
          t,
          type === 'dockerfile' ? 'Dockerfile' : 'pod.yaml',
          type,
          false,
        )
      ),
    );
    (ex.bad ?? []).forEach(
      (t, i) => (
        n++,
        mismatch(
          bad,
          `trivy ${name} bad[${i}]`,
          check,
          t,
          type === 'dockerfile' ? 'Dockerfile' : 'pod.yaml',
          type,
          true,
        )
      ),
    );
  }
  assert.ok(n >= 90, `${n} examples`);
  assert.deepEqual(bad, []);
});

test('polaris success/failure examples', () => {
  const bad: string[] = [];
  let n = 0;
  for (const [dir, check] of Object.entries(POLARIS_MAP)) {
    const files = readdirSync(join(POLARIS, dir)).filter((f) => /^(success|failure).*\.ya?ml$/.test(f));
    assert.ok(
      files.some((f) => f.startsWith('success')) && files.some((f) => f.startsWith('failure')),
      `${dir}: needs both`,
    );
    for (const f of files) {
      n++;
      const text = readFileSync(join(POLARIS, dir, f), 'utf8');
      mismatch(bad, `polaris ${dir}/${f}`, check, text, f, 'yaml', f.startsWith('failure'));
    }
  }
  assert.ok(n >= 60, `${n} examples`);
  assert.deepEqual(bad, []);
});
