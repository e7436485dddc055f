/**
 * Behaviour profiles (#10): the workloads the node agents hold profiles for, with the mode each is
 * held in, the counts of what was learned, its deviations and the responses taken; one workload's
 * page with its profile, the mode switch (operators; the agents pull it at their next heartbeat),
 * its deviations and its responses, each reversible one with an undo (a command its agent pulls).
 */
import { useEffect, useState } from 'react';
import { post, put, type Me, type ProfileWorkload, type WorkloadDetail } from '../api';
import { ErrorBox, fmtDate, Link, SimpleTable, useResource } from '../components';
import { useT, type Key } from '../i18n';
import { useLocation } from '../router';

const MODES = ['discover', 'monitor', 'protect'] as const;

export function workloadUrl(cluster: string, workload: string): string {
  return `/profiles/workload?cluster=${encodeURIComponent(cluster)}&workload=${encodeURIComponent(workload)}`;
}

function ModeBadge({ mode }: { mode: string }) {
  const { t } = useT();
  const known = mode === 'mixed' || (MODES as readonly string[]).includes(mode);
  return (
    <span className={`mode mode-${mode || 'none'}`} data-mode={mode}>
      {known ? t(`profiles.mode.${mode}` as Key) : mode || '—'}
    </span>
  );
}

/** The workload's mode as reported, and the one set in the console while agents have not applied it. */
function ModeCell({ w }: { w: ProfileWorkload }) {
  const { t } = useT();
  const pending = w.desired && Object.values(w.modes).some((m) => m !== w.desired!.mode);
  return (
    <span>
      <ModeBadge mode={w.mode} />
      {pending && (
        <span className="muted small" data-testid="mode-pending">
          {' '}
          {t('profiles.pending', { mode: t(`profiles.mode.${w.desired!.mode}` as Key) })}
        </span>
      )}
    </span>
  );
}

export function ProfilesPage() {
  const { t } = useT();
  const [q, setQ] = useState('');
  const list = useResource<{ items: ProfileWorkload[] }>(
    `/api/runtime/workloads${q ? `?q=${encodeURIComponent(q)}` : ''}`,
  );
  return (
    <div>
      <h1>{t('profiles.title')}</h1>
      <p className="muted">{t('profiles.intro')}</p>
      <div className="filters">
        <input
          placeholder={t('profiles.search')}
          aria-label={t('profiles.search')}
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
      </div>
      <ErrorBox error={list.error} />
      {list.data && list.data.items.length === 0 && <p className="muted">{t('profiles.none')}</p>}
      <SimpleTable
        testId="profiles-table"
        rows={list.data?.items}
        rowKey={(w) => `${w.cluster}\0${w.workload}`}
        columns={[
          {
            key: 'workload',
            label: 'profiles.workload',
            render: (w) => <Link to={workloadUrl(w.cluster, w.workload)}>{w.workload}</Link>,
          },
          { key: 'cluster', label: 'runtime.cluster', render: (w) => w.cluster || '—' },
          { key: 'mode', label: 'profiles.mode', render: (w) => <ModeCell w={w} /> },
          {
            key: 'exe',
            label: 'profiles.executables',
            className: 'num',
            render: (w) => w.counts.executables,
          },
          { key: 'files', label: 'profiles.files', className: 'num', render: (w) => w.counts.filesWritten },
          {
            key: 'net',
            label: 'profiles.network',
            className: 'num',
            render: (w) => w.counts.outbound + w.counts.listening,
          },
          { key: 'sys', label: 'profiles.syscalls', className: 'num', render: (w) => w.counts.syscalls },
          {
            key: 'dev',
            label: 'profiles.deviations',
            className: 'num',
            render: (w) => <span className={w.deviations ? 'sevtext-high' : ''}>{w.deviations}</span>,
          },
          { key: 'resp', label: 'profiles.responses', className: 'num', render: (w) => w.responses },
          { key: 'seen', label: 'profiles.lastReport', render: (w) => fmtDate(w.lastReport) },
        ]}
      />
    </div>
  );
}

function ListBlock({ title, items, testId }: { title: Key; items: string[]; testId: string }) {
  const { t } = useT();
  return (
    <div className="facet" data-testid={testId}>
      <h3>
        {t(title)} <span className="muted small">{items.length}</span>
      </h3>
      {items.length === 0 ? (
        <p className="muted small">{t('common.empty')}</p>
      ) : (
        <ul className="tags">
          {items.map((x) => (
            <li key={x} className="tag">
              <code>{x}</code>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function WorkloadPage({ me }: { me: Me['user'] }) {
  const { t } = useT();
  const { query } = useLocation();
  const cluster = query.get('cluster') ?? '';
  const workload = query.get('workload') ?? '';
  const r = useResource<WorkloadDetail>(
    `/api/runtime/workload?cluster=${encodeURIComponent(cluster)}&workload=${encodeURIComponent(workload)}`,
  );
  const { reload } = r;
  // the agents apply a mode and carry out an undo at their next heartbeat: follow them
  useEffect(() => {
    const i = setInterval(reload, 2000);
    return () => clearInterval(i);
  }, [reload]);
  const [mode, setMode] = useState('');
  const [error, setError] = useState<unknown>();
  const canAct = me.role === 'operator' || me.role === 'admin';
  const d = r.data;
  const act = async (p: Promise<unknown>) => {
    setError(undefined);
    try {
      await p;
      reload();
    } catch (e) {
      setError(e);
    }
  };
  if (r.error && !d) return <ErrorBox error={r.error} />;
  if (!d) return <p className="muted">{t('common.loading')}</p>;
  const p = d.profile;
  const ref = (p?.workloadRef ?? {}) as Record<string, string>;
  const modes = new Set(d.nodes.map((n) => n.mode));
  const held = modes.size === 1 ? [...modes][0]! : modes.size ? 'mixed' : '';
  const chosen = mode || d.desired?.mode || held;
  return (
    <div data-testid="workload-page">
      <p>
        <Link to="/profiles">← {t('profiles.title')}</Link>
      </p>
      <h1>
        {d.workload} <ModeBadge mode={held} />
      </h1>
      <ErrorBox error={error} />
      <dl className="facts">
        <dt>{t('runtime.cluster')}</dt>
        <dd>{d.cluster || '—'}</dd>
        {Object.entries(ref).map(([k, v]) => (
          <span key={k} style={{ display: 'contents' }}>
            <dt>{t(`profiles.ref.${k}` as Key)}</dt>
            <dd>
              <code>{v}</code>
            </dd>
          </span>
        ))}
        {p?.learnedSince && (
          <>
            <dt>{t('profiles.learnedSince')}</dt>
            <dd>{fmtDate(p.learnedSince)}</dd>
          </>
        )}
        <dt>{t('profiles.zeroDrift')}</dt>
        <dd>{t(p?.zeroDrift ? 'common.enabled' : 'common.disabled')}</dd>
      </dl>

      <h2>{t('profiles.modeSwitch')}</h2>
      <div className="panel inline" data-testid="mode-switch">
        <select
          value={chosen}
          onChange={(e) => setMode(e.target.value)}
          disabled={!canAct}
          aria-label={t('profiles.mode')}
          data-testid="mode-select"
        >
          {MODES.map((m) => (
            <option key={m} value={m}>
              {t(`profiles.mode.${m}` as Key)}
            </option>
          ))}
        </select>
        {canAct && (
          <button
            className="primary"
            data-testid="mode-apply"
            disabled={!mode || (mode === d.desired?.mode && held === mode)}
            onClick={() =>
              act(put('/api/runtime/workloads/mode', { cluster: d.cluster, workload: d.workload, mode }))
            }
          >
            {t('profiles.setMode')}
          </button>
        )}
        <span className="muted small">{canAct ? t('profiles.modeHelp') : t('profiles.viewerOnly')}</span>
      </div>
      {d.desired && (
        <p className="small" data-testid="mode-desired">
          {t('profiles.desired', {
            mode: t(`profiles.mode.${d.desired.mode}` as Key),
            user: d.desired.setBy,
            time: fmtDate(d.desired.setAt),
          })}
        </p>
      )}
      <SimpleTable
        testId="workload-nodes"
        rows={d.nodes}
        rowKey={(n) => n.node}
        columns={[
          { key: 'node', label: 'runtime.node', render: (n) => n.node },
          { key: 'mode', label: 'profiles.mode', render: (n) => <ModeBadge mode={n.mode} /> },
          { key: 'at', label: 'profiles.lastReport', render: (n) => fmtDate(n.reportedAt) },
          {
            key: 'exe',
            label: 'profiles.executables',
            className: 'num',
            render: (n) => n.counts.executables,
          },
          { key: 'sys', label: 'profiles.syscalls', className: 'num', render: (n) => n.counts.syscalls },
        ]}
      />

      <h2>{t('profiles.profile')}</h2>
      {!p ? (
        <p className="muted">{t('profiles.noProfile')}</p>
      ) : (
        <>
          <SimpleTable
            testId="profile-executables"
            rows={p.executables}
            rowKey={(e) => e.path}
            columns={[
              {
                key: 'path',
                label: 'profiles.executables',
                render: (e) => (
                  <span>
                    <code>{e.path}</code>
                    {e.aliases?.length ? (
                      <span className="muted small"> ({e.aliases.join(', ')})</span>
                    ) : null}
                  </span>
                ),
              },
              {
                key: 'sha',
                label: 'profiles.sha256',
                render: (e) => (e.sha256 ? <code title={e.sha256}>{e.sha256.slice(0, 12)}</code> : '—'),
              },
              { key: 'parents', label: 'profiles.parents', render: (e) => e.parents.join(', ') || '—' },
              { key: 'uids', label: 'profiles.uids', render: (e) => e.uids.join(', ') },
            ]}
          />
          <div className="facets">
            <ListBlock title="profiles.files" items={p.filesWritten} testId="profile-files" />
            <ListBlock title="profiles.outbound" items={p.outbound} testId="profile-outbound" />
            <ListBlock title="profiles.listening" items={p.listening} testId="profile-listening" />
            <ListBlock title="profiles.syscalls" items={p.syscalls} testId="profile-syscalls" />
          </div>
        </>
      )}

      <h2>{t('profiles.deviations')}</h2>
      <SimpleTable
        testId="workload-deviations"
        rows={d.deviations}
        rowKey={(x) => x.id}
        columns={[
          {
            key: 'time',
            label: 'col.date',
            render: (x) => <Link to={`/runtime/${x.id}`}>{fmtDate(x.time)}</Link>,
          },
          { key: 'node', label: 'runtime.node', render: (x) => x.node },
          {
            key: 'type',
            label: 'col.type',
            render: (x) =>
              ['exe', 'file', 'network', 'syscall'].includes(x.type)
                ? t(`profiles.dev.${x.type}` as Key)
                : x.type,
          },
          { key: 'value', label: 'profiles.value', render: (x) => <code>{x.value}</code> },
          { key: 'mode', label: 'profiles.mode', render: (x) => <ModeBadge mode={x.mode} /> },
          {
            key: 'action',
            label: 'profiles.action',
            render: (x) => (
              <span className={x.action === 'blocked' ? 'sevtext-critical' : ''}>
                {x.action === 'blocked' || x.action === 'none' ? t(`profiles.action.${x.action}`) : x.action}
              </span>
            ),
          },
        ]}
      />

      <h2>{t('profiles.responses')}</h2>
      <SimpleTable
        testId="workload-responses"
        rows={d.responses}
        rowKey={(x) => x.id}
        columns={[
          {
            key: 'time',
            label: 'col.date',
            render: (x) => <Link to={`/runtime/${x.id}`}>{fmtDate(x.time)}</Link>,
          },
          { key: 'node', label: 'runtime.node', render: (x) => x.node },
          { key: 'action', label: 'profiles.action', render: (x) => actionText(t, x.action) },
          { key: 'policy', label: 'profiles.policy', render: (x) => x.policy || '—' },
          {
            key: 'latency',
            label: 'profiles.latency',
            className: 'num',
            render: (x) => (x.latencyMs !== null && !x.undoes ? `${x.latencyMs.toFixed(1)} ms` : ''),
          },
          {
            key: 'state',
            label: 'profiles.state',
            render: (x) => (
              <span data-testid={`state-${x.eventId}`} data-state={x.state} title={x.error || undefined}>
                {t(`profiles.state.${x.state}` as Key)}
                {x.undoneBy && (
                  <span className="muted small">
                    {' '}
                    {x.command && x.undoneBy.eventId === x.command.resultEvent
                      ? t('profiles.byConsole', { user: x.command.createdBy })
                      : x.undoneBy.automatic
                        ? t('profiles.byTimer')
                        : ''}
                  </span>
                )}
              </span>
            ),
          },
          {
            key: 'undo',
            label: 'col.actions',
            render: (x) =>
              canAct && x.state === 'active' ? (
                <button
                  data-testid={`undo-${x.eventId}`}
                  onClick={() => act(post(`/api/runtime/events/${x.id}/undo`))}
                >
                  {t('profiles.undo')}
                </button>
              ) : null,
          },
        ]}
      />
    </div>
  );
}

function actionText(t: (k: Key) => string, a: string): string {
  const known = ['kill', 'pause', 'quarantine', 'capture', 'resume', 'release', 'capture-end', 'undo'];
  return known.includes(a) ? t(`profiles.act.${a}` as Key) : a;
}
