/**
 * CIS benchmarks per node (#14): the nodes whose agents run `bulwark agent --benchmark`, one column
 * per benchmark (CIS Docker, CIS Kubernetes node) with the latest run's score, counts, time and
 * trend, stale and failed runs marked; one node's page for one benchmark with every check, filtered
 * by status and section, each with its actual value (redacted), remediation and compliance mapping.
 */
import { useState } from 'react';
import type { BenchmarkCheck, BenchmarkNode, BenchmarkNodeDetail, BenchmarkSummary } from '../api';
import { ErrorBox, fmtDate, Link, SimpleTable, useResource } from '../components';
import { useT, type Key } from '../i18n';
import { navigate, useLocation } from '../router';

export const STATES = ['FAIL', 'WARN', 'PASS', 'INFO'] as const;

export function benchmarkUrl(cluster: string, node: string, target: string): string {
  return `/benchmarks/node?cluster=${encodeURIComponent(cluster)}&node=${encodeURIComponent(node)}&target=${encodeURIComponent(target)}`;
}

export function StateBadge({ s }: { s: string }) {
  const { t } = useT();
  const known = (STATES as readonly string[]).includes(s);
  return (
    <span className={`bstate bstate-${s.toLowerCase()}`} data-state={s}>
      {known ? t(`bench.state.${s}` as Key) : s}
    </span>
  );
}

function scoreClass(score: number | null): string {
  if (score === null) return 'score score-none';
  return score >= 90 ? 'score score-good' : score >= 70 ? 'score score-fair' : 'score score-poor';
}

/** The scores of the runs kept, oldest first, as a small line. */
function Sparkline({ points }: { points: BenchmarkSummary['trend'] }) {
  const { t } = useT();
  const vals = points.map((p) => p.score);
  if (vals.filter((v) => v !== null).length < 2) return null;
  const w = 80;
  const h = 18;
  const step = w / Math.max(1, vals.length - 1);
  const d = vals
    .map((v, i) => (v === null ? null : `${(i * step).toFixed(1)},${(h - (v / 100) * h).toFixed(1)}`))
    .filter(Boolean)
    .join(' ');
  return (
    <svg className="spark" width={w} height={h} role="img" aria-label={t('bench.trend')}>
      <title>{points.map((p) => `${fmtDate(p.time)}: ${p.score ?? '—'}`).join('\n')}</title>
      <polyline points={d} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}

/** One node's latest run of one benchmark: score, counts, time, marks. */
export function SummaryCell({ cluster, node, s }: { cluster: string; node: string; s: BenchmarkSummary }) {
  const { t } = useT();
  return (
    <div className="bcell" data-testid={`bench-${node}-${s.target}`}>
      <Link to={benchmarkUrl(cluster, node, s.target)}>
        <span className={scoreClass(s.score)} data-testid="score">
          {s.score === null ? '—' : `${s.score}%`}
        </span>
      </Link>{' '}
      <span className="bcounts small">
        <span className="sevtext-critical" title={t('bench.state.FAIL')}>
          {s.totals.fail}
        </span>
        {' / '}
        <span className="sevtext-medium" title={t('bench.state.WARN')}>
          {s.totals.warn}
        </span>
        {' / '}
        <span title={t('bench.state.PASS')}>{s.totals.pass}</span>
        {' / '}
        <span className="muted" title={t('bench.state.INFO')}>
          {s.totals.info}
        </span>
      </span>{' '}
      <Sparkline points={s.trend} />
      <div className="small muted">
        {fmtDate(s.time)}
        {s.stale && (
          <span className="sevtext-high" data-testid="stale">
            {' '}
            · {t('bench.stale')}
          </span>
        )}
      </div>
      {s.status === 'error' && (
        <div className="small sevtext-critical" data-testid="run-error" title={s.error}>
          {t('bench.runFailed')}: {s.error}
        </div>
      )}
    </div>
  );
}

const TARGETS: { id: string; label: Key }[] = [
  { id: 'docker', label: 'bench.target.docker' },
  { id: 'k8s-node', label: 'bench.target.k8s-node' },
];

export function BenchmarksPage() {
  const { t } = useT();
  const { query } = useLocation();
  const [q, setQ] = useState(query.get('q') ?? '');
  const list = useResource<{ targets: string[]; items: BenchmarkNode[] }>(
    `/api/benchmarks/nodes${q ? `?q=${encodeURIComponent(q)}` : ''}`,
  );
  const targets = TARGETS.filter((x) => list.data?.targets.includes(x.id));
  return (
    <div>
      <h1>{t('bench.title')}</h1>
      <p className="muted">{t('bench.intro')}</p>
      <div className="filters">
        <input
          placeholder={t('bench.search')}
          aria-label={t('bench.search')}
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
      </div>
      <ErrorBox error={list.error} />
      {list.data && list.data.items.length === 0 && <p className="muted">{t('bench.none')}</p>}
      <SimpleTable
        testId="bench-nodes"
        rows={list.data?.items}
        rowKey={(n) => `${n.cluster}\0${n.node}`}
        columns={[
          {
            key: 'node',
            label: 'runtime.node',
            render: (n) => (
              <span>
                {n.node}
                {n.cluster ? <span className="muted small"> {n.cluster}</span> : null}
              </span>
            ),
          },
          ...targets.map((tg) => ({
            key: tg.id,
            label: tg.label,
            render: (n: BenchmarkNode) => {
              const s = n.benchmarks.find((b) => b.target === tg.id);
              return s ? (
                <SummaryCell cluster={n.cluster} node={n.node} s={s} />
              ) : (
                <span className="muted">—</span>
              );
            },
          })),
        ]}
      />
      <p className="muted small">{t('bench.legend')}</p>
    </div>
  );
}

function CheckRow({ c }: { c: BenchmarkCheck }) {
  const { t } = useT();
  const [open, setOpen] = useState(c.status === 'FAIL');
  const offenders = (c.subjects ?? []).filter((s) => s.state !== 'PASS');
  return (
    <>
      <tr data-testid={`check-${c.id}`} data-state={c.status} className={`brow-${c.status.toLowerCase()}`}>
        <td>
          <StateBadge s={c.status} />
          {c.previous && c.previous !== c.status && (
            <div className="small muted" data-testid="previous">
              {t('bench.was', { state: t(`bench.state.${c.previous}` as Key) })}
            </div>
          )}
        </td>
        <td>
          <code>{c.id}</code>
        </td>
        <td>
          <button className="linkish" onClick={() => setOpen(!open)} aria-expanded={open}>
            {c.title}
          </button>
          {!c.scored && <span className="muted small"> · {t('bench.notScored')}</span>}
        </td>
        <td>
          {c.compliance.length ? (
            <ul className="tags">
              {c.compliance.map((r) => (
                <li key={`${r.framework}:${r.control}`} className="tag" title={r.title ?? ''}>
                  {r.framework} {r.control}
                </li>
              ))}
            </ul>
          ) : (
            <span className="muted">—</span>
          )}
        </td>
      </tr>
      {open && (
        <tr className="bdetail" data-testid={`detail-${c.id}`}>
          <td colSpan={4}>
            <dl className="facts">
              {c.reason && (
                <>
                  <dt>{t('bench.reason')}</dt>
                  <dd>{c.reason}</dd>
                </>
              )}
              {c.expected && (
                <>
                  <dt>{t('bench.expected')}</dt>
                  <dd>
                    <code>{c.expected}</code>
                  </dd>
                </>
              )}
              {c.actual !== undefined && (
                <>
                  <dt>{t('bench.actual')}</dt>
                  <dd>
                    <pre className="actual" data-testid="actual">
                      {c.actual || '—'}
                    </pre>
                  </dd>
                </>
              )}
              {offenders.length > 0 && (
                <>
                  <dt>{t('bench.offenders')}</dt>
                  <dd>
                    <ul>
                      {offenders.map((s, i) => (
                        <li key={`${s.id ?? ''}${i}`}>
                          <code>{s.name || s.id}</code> <StateBadge s={s.state} />
                          {s.reason ? <span className="muted small"> {s.reason}</span> : null}
                        </li>
                      ))}
                    </ul>
                  </dd>
                </>
              )}
              {c.remediation && (
                <>
                  <dt>{t('bench.remediation')}</dt>
                  <dd className="remediation" data-testid="remediation">
                    {c.remediation}
                  </dd>
                </>
              )}
              {c.compliance.map((r) => (
                <span key={`${r.framework}:${r.control}`} style={{ display: 'contents' }}>
                  <dt>{r.framework}</dt>
                  <dd>
                    {r.control}
                    {r.title ? ` ${r.title}` : ''}
                  </dd>
                </span>
              ))}
            </dl>
          </td>
        </tr>
      )}
    </>
  );
}

export function BenchmarkNodePage() {
  const { t } = useT();
  const { query } = useLocation();
  const cluster = query.get('cluster') ?? '';
  const node = query.get('node') ?? '';
  const target = query.get('target') ?? '';
  const status = query.get('status') ?? '';
  const section = query.get('section') ?? '';
  const set = (k: string, v: string) => {
    const p = new URLSearchParams(location.search);
    if (v) p.set(k, v);
    else p.delete(k);
    navigate(`/benchmarks/node?${p.toString()}`, true);
  };
  const base = `cluster=${encodeURIComponent(cluster)}&node=${encodeURIComponent(node)}&target=${encodeURIComponent(target)}`;
  const r = useResource<BenchmarkNodeDetail>(
    `/api/benchmarks/node?${base}${status ? `&status=${encodeURIComponent(status)}` : ''}${section ? `&section=${encodeURIComponent(section)}` : ''}`,
  );
  const d = r.data;
  if (r.error && !d) return <ErrorBox error={r.error} />;
  if (!d) return <p className="muted">{t('common.loading')}</p>;
  const s = d.summary;
  return (
    <div data-testid="bench-node-page">
      <p>
        <Link to="/benchmarks">← {t('bench.title')}</Link>
      </p>
      <h1>
        {d.node} · {s.title || s.benchmarkId}
      </h1>
      {d.targets.length > 1 && (
        <p className="filters" data-testid="bench-targets">
          {d.targets.map((tg) =>
            tg === d.target ? (
              <strong key={tg}>{t(`bench.target.${tg}` as Key)}</strong>
            ) : (
              <Link key={tg} to={benchmarkUrl(d.cluster, d.node, tg)}>
                {t(`bench.target.${tg}` as Key)}
              </Link>
            ),
          )}
        </p>
      )}
      <dl className="facts">
        <dt>{t('runtime.cluster')}</dt>
        <dd>{d.cluster || '—'}</dd>
        <dt>{t('bench.benchmark')}</dt>
        <dd>
          <code>{s.benchmarkId}</code>
          {s.version && s.version !== s.benchmarkId ? ` (${s.version})` : ''}
        </dd>
        <dt>{t('bench.score')}</dt>
        <dd>
          <span className={scoreClass(s.score)} data-testid="score">
            {s.score === null ? '—' : `${s.score}%`}
          </span>{' '}
          <span className="small">
            {t('bench.counts', {
              pass: s.totals.pass,
              fail: s.totals.fail,
              warn: s.totals.warn,
              info: s.totals.info,
            })}
          </span>{' '}
          <Sparkline points={s.trend} />
        </dd>
        <dt>{t('bench.lastRun')}</dt>
        <dd>
          {fmtDate(s.time)} · {t('bench.duration', { ms: s.durationMs })} ·{' '}
          {t('bench.every', { hours: Math.round((s.intervalSeconds / 3600) * 10) / 10 })}
          {s.stale && <span className="sevtext-high"> · {t('bench.stale')}</span>}
        </dd>
        {s.status === 'error' && (
          <>
            <dt>{t('bench.runFailed')}</dt>
            <dd className="sevtext-critical" data-testid="run-error">
              {s.error}
            </dd>
          </>
        )}
        {d.checksFrom && (
          <>
            <dt>{t('bench.root')}</dt>
            <dd>
              <code>{d.checksFrom.root}</code>
              {d.checksFrom.time !== s.time && (
                <span className="muted small">
                  {' '}
                  · {t('bench.checksFrom', { time: fmtDate(d.checksFrom.time) })}
                </span>
              )}
            </dd>
          </>
        )}
      </dl>
      {!d.checksFrom && <p className="muted">{t('bench.noReport')}</p>}
      {d.checksFrom && (
        <>
          <div className="filters">
            <label>
              {t('bench.status')}{' '}
              <select
                value={status}
                onChange={(e) => set('status', e.target.value)}
                data-testid="status-filter"
              >
                <option value="">{t('common.all')}</option>
                <option value="FAIL,WARN">{t('bench.failWarn')}</option>
                {STATES.map((x) => (
                  <option key={x} value={x}>
                    {t(`bench.state.${x}` as Key)}
                  </option>
                ))}
              </select>
            </label>
            <label>
              {t('bench.section')}{' '}
              <select
                value={section}
                onChange={(e) => set('section', e.target.value)}
                data-testid="section-filter"
              >
                <option value="">{t('common.all')}</option>
                {d.sections.map((x) => (
                  <option key={x.id} value={x.id}>
                    {x.id} {x.title} ({x.totals.fail}/{x.totals.total})
                  </option>
                ))}
              </select>
            </label>
            <span className="muted small" data-testid="check-count">
              {t('bench.shown', { count: d.checks.length })}
            </span>
          </div>
          <div className="tablewrap">
            <table data-testid="bench-checks">
              <thead>
                <tr>
                  <th>{t('bench.status')}</th>
                  <th>{t('bench.check')}</th>
                  <th>{t('bench.titleCol')}</th>
                  <th>{t('bench.compliance')}</th>
                </tr>
              </thead>
              <tbody>
                {d.checks.map((c) => (
                  <CheckRow key={c.id} c={c} />
                ))}
                {d.checks.length === 0 && (
                  <tr>
                    <td colSpan={4} className="empty">
                      {t('common.empty')}
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}
