/**
 * Prometheus metrics of the webhook (text exposition format 0.0.4) at GET /metrics: decisions by
 * outcome, request duration, failure-policy decisions, bad requests, and the image cache.
 */
import type { ImageCache } from './images.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class WebhookMetrics {
  private readonly decisions = new Map<string, number>();
  private readonly bad = new Map<number, number>();
  private failurePolicy = 0;
  private readonly counts = new Array<number>(BUCKETS.length).fill(0);
  private sum = 0;
  private count = 0;

  decision(outcome: string, seconds: number, failurePolicyApplied: boolean): void {
    this.decisions.set(outcome, (this.decisions.get(outcome) ?? 0) + 1);
    if (failurePolicyApplied) this.failurePolicy++;
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) this.counts[i]!++;
  }

  badRequest(status: number): void {
    this.bad.set(status, (this.bad.get(status) ?? 0) + 1);
  }

  render(cache?: ImageCache): string {
    const l: string[] = [
      '# HELP bulwark_admission_decisions_total Admission decisions by outcome.',
      '# TYPE bulwark_admission_decisions_total counter',
      ...[...this.decisions].map(([k, v]) => `bulwark_admission_decisions_total{decision="${k}"} ${v}`),
      '# HELP bulwark_admission_failure_policy_total Decisions the failure policy took part in.',
      '# TYPE bulwark_admission_failure_policy_total counter',
      `bulwark_admission_failure_policy_total ${this.failurePolicy}`,
      '# HELP bulwark_admission_bad_requests_total Requests refused before evaluation, by HTTP status.',
      '# TYPE bulwark_admission_bad_requests_total counter',
      ...[...this.bad].map(([k, v]) => `bulwark_admission_bad_requests_total{code="${k}"} ${v}`),
      '# HELP bulwark_admission_duration_seconds Time from request to answer.',
      '# TYPE bulwark_admission_duration_seconds histogram',
      ...BUCKETS.map((b, i) => `bulwark_admission_duration_seconds_bucket{le="${b}"} ${this.counts[i]}`),
      `bulwark_admission_duration_seconds_bucket{le="+Inf"} ${this.count}`,
      `bulwark_admission_duration_seconds_sum ${this.sum}`,
      `bulwark_admission_duration_seconds_count ${this.count}`,
    ];
    if (cache)
      l.push(
        '# HELP bulwark_admission_image_cache_entries Image verdicts cached.',
        '# TYPE bulwark_admission_image_cache_entries gauge',
        `bulwark_admission_image_cache_entries ${cache.size}`,
        '# HELP bulwark_admission_image_cache_total Image cache lookups and background fills.',
        '# TYPE bulwark_admission_image_cache_total counter',
        ...Object.entries(cache.stats).map(
          ([k, v]) => `bulwark_admission_image_cache_total{event="${k}"} ${v}`,
        ),
      );
    return l.join('\n') + '\n';
  }
}
