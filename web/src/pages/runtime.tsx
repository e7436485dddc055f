/**
 * Runtime: the node agents' alerts (and profile deviations, responses). Counts by priority, rule,
 * ATT&CK technique, namespace, image and container that filter the list when clicked; the list;
 * and the event page with its process tree, Falco's JSON and the container's events around it.
 */
import { useState, type ReactNode } from 'react';
import {
  post,
  type ClusterRow,
  type Me,
  type RuntimeAgent,
  type BenchmarkNode,
  type RuntimeEvent,
  type RuntimeEventDetail,
  type RuntimeSummary,
} from '../api';
import { DataTable, ErrorBox, fmtDate, Link, SimpleTable, useResource, useServerList } from '../components';
import { useT, type Key } from '../i18n';
import { navigate, useLocation } from '../router';
import { workloadUrl } from './profiles';
import { benchmarkUrl } from './benchmarks';

export const PRIORITIES = [
  'Emergency',
  'Alert',
  'Critical',
  'Error',
  'Warning',
  'Notice',
  'Informational',
  'Debug',
] as const;

/** ATT&CK technique names (Enterprise and Containers matrices) for the ids Falco's rules tag. */
const TECHNIQUES: Record<string, string> = {
  T1003: 'OS Credential Dumping',
  T1005: 'Data from Local System',
  T1020: 'Automated Exfiltration',
  T1021: 'Remote Services',
  T1036: 'Masquerading',
  T1046: 'Network Service Discovery',
  T1048: 'Exfiltration Over Alternative Protocol',
  T1053: 'Scheduled Task/Job',
  T1055: 'Process Injection',
  'T1055.008': 'Process Injection: Ptrace System Calls',
  T1059: 'Command and Scripting Interpreter',
  'T1059.004': 'Unix Shell',
  T1068: 'Exploitation for Privilege Escalation',
  T1070: 'Indicator Removal',
  T1071: 'Application Layer Protocol',
  T1078: 'Valid Accounts',
  T1083: 'File and Directory Discovery',
  T1090: 'Proxy',
  T1098: 'Account Manipulation',
  T1105: 'Ingress Tool Transfer',
  T1106: 'Native API',
  T1190: 'Exploit Public-Facing Application',
  T1203: 'Exploitation for Client Execution',
  T1204: 'User Execution',
  T1485: 'Data Destruction',
  T1489: 'Service Stop',
  T1496: 'Resource Hijacking',
  T1525: 'Implant Internal Image',
  T1528: 'Steal Application Access Token',
  T1547: 'Boot or Logon Autostart Execution',
  T1548: 'Abuse Elevation Control Mechanism',
  T1552: 'Unsecured Credentials',
  'T1552.001': 'Credentials In Files',
  T1555: 'Credentials from Password Stores',
  T1556: 'Modify Authentication Process',
  'T1557.002': 'ARP Cache Poisoning',
  T1562: 'Impair Defenses',
  T1565: 'Data Manipulation',
  T1571: 'Non-Standard Port',
  T1574: 'Hijack Execution Flow',
  T1609: 'Container Administration Command',
  T1610: 'Deploy Container',
  T1611: 'Escape to Host',
  T1612: 'Build Image on Host',
  T1613: 'Container and Resource Discovery',
  T1620: 'Reflective Code Loading',
  T1622: 'Debugger Evasion',
};

export function techniqueUrl(id: string): string {
  return `https://attack.mitre.org/techniques/${id.replace('.', '/')}/`;
}

function PriorityBadge({ p }: { p: string }) {
  const { t } = useT();
  const known = (PRIORITIES as readonly string[]).includes(p);
  return (
    <span className={`prio prio-${p.toLowerCase()}`} title={p}>
      {known ? t(`prio.${p}` as Key) : p}
    </span>
  );
}

function Technique({ id }: { id: string }) {
  return (
    <a
      className="tag technique"
      href={techniqueUrl(id)}
      target="_blank"
      rel="noreferrer noopener"
      title={TECHNIQUES[id] ?? id}
    >
      {id}
      {TECHNIQUES[id] ? ` ${TECHNIQUES[id]}` : ''}
    </a>
  );
}

const WINDOWS: Record<string, number | undefined> = {
  '1h': 3600e3,
  '24h': 86400e3,
  '7d': 7 * 86400e3,
  all: undefined,
};

function where(e: RuntimeEvent): string {
  if (e.container.id === 'host') return `host ${e.node}`;
  const pod = e.k8s.pod ? `${e.k8s.namespace}/${e.k8s.pod}` : '';
  return [pod, e.container.name || e.container.id.slice(0, 12)].filter(Boolean).join(' · ');
}

/** One facet: the top values and their counts; clicking one filters by it (again: clears it). */
function Facet({
  title,
  groups,
  active,
  onPick,
  label,
  testId,
}: {
  title: string;
  groups: { key: string; count: number }[] | undefined;
  active: string;
  onPick: (v: string) => void;
  label?: (k: string) => ReactNode;
  testId: string;
}) {
  const { t } = useT();
  return (
    <div className="facet" data-testid={testId}>
      <h3>{title}</h3>
      {groups && groups.length === 0 && <p className="muted small">{t('common.empty')}</p>}
      <ul>
        {(groups ?? []).slice(0, 10).map((g) => (
          <li key={g.key}>
            <button
              className={`linkbtn ${active === g.key ? 'active' : ''}`}
              onClick={() => onPick(active === g.key ? '' : g.key)}
              title={g.key}
            >
              {label ? label(g.key) : g.key || '—'}
            </button>
            <span className="num">{g.count}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The runtime page; with `fixedKind` one kind of event only (the admission decisions page). */
export function RuntimePage({ fixedKind, title }: { fixedKind?: string; title?: Key } = {}) {
  const { t } = useT();
  const { query } = useLocation();
  const [windowKey, setWindowKey] = useState(query.get('window') ?? '24h');
  const [priority, setPriority] = useState(query.get('priority') ?? '');
  const [rule, setRule] = useState(query.get('rule') ?? '');
  const [tag, setTag] = useState(query.get('tag') ?? '');
  const [namespace, setNamespace] = useState(query.get('namespace') ?? '');
  const [image, setImage] = useState(query.get('image') ?? '');
  const [container, setContainer] = useState(query.get('container') ?? '');
  const [kindSel, setKind] = useState(query.get('kind') ?? '');
  const kind = fixedKind ?? kindSel;
  const [cluster, setCluster] = useState(query.get('cluster') ?? '');
  const [q, setQ] = useState('');
  // the window's start, fixed while the filters stay the same (so paging does not shift)
  const [since] = useState(() => new Date().toISOString());
  const span = WINDOWS[windowKey];
  const sinceIso = span === undefined ? undefined : new Date(Date.parse(since) - span).toISOString();
  const filters = { since: sinceIso, priority, rule, tag, namespace, image, container, kind, cluster, q };
  const qsOf = (f: Record<string, string | undefined>) =>
    Object.entries(f)
      .filter(([, v]) => v)
      .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
      .join('&');
  const summary = useResource<RuntimeSummary>(`/api/runtime/summary?${qsOf(filters)}`);
  const list = useServerList<RuntimeEvent>('/api/runtime/events', filters, { sort: 'time', order: 'desc' });
  const s = summary.data;
  const agents = useResource<{ items: RuntimeAgent[] }>('/api/runtime/agents');
  // the agents' CIS benchmark results (#14), linked from their row
  const benches = useResource<{ items: BenchmarkNode[] }>(fixedKind ? null : '/api/benchmarks/nodes');
  const clusters = useResource<{ items: ClusterRow[] }>('/api/clusters');
  const named = (clusters.data?.items ?? []).filter((c) => c.cluster);
  return (
    <div>
      <h1>{t(title ?? 'nav.runtime')}</h1>
      {named.length > 0 && (
        <>
          <h2>{t('runtime.clusters')}</h2>
          <SimpleTable
            testId="runtime-clusters"
            rows={clusters.data?.items}
            rowKey={(c) => c.cluster}
            columns={[
              {
                key: 'cluster',
                label: 'runtime.cluster',
                render: (c) => (
                  <button
                    className={`linkbtn ${cluster === c.cluster ? 'active' : ''}`}
                    onClick={() => setCluster(cluster === c.cluster ? '' : c.cluster)}
                  >
                    {c.cluster || '—'}
                  </button>
                ),
              },
              {
                key: 'agents',
                label: 'runtime.agents',
                className: 'num',
                render: (c) => `${c.agents - c.staleAgents}/${c.agents}`,
              },
              {
                key: 'drops',
                label: 'runtime.drops',
                className: 'num',
                render: (c) => <span className={c.drops ? 'sevtext-critical' : ''}>{c.drops}</span>,
              },
              {
                key: 'events',
                label: 'runtime.events24h',
                className: 'num',
                render: (c) => (
                  <span
                    title={Object.entries(c.byPriority24h)
                      .map(([p, n]) => `${p}: ${n}`)
                      .join(', ')}
                  >
                    {c.events24h}
                  </span>
                ),
              },
              { key: 'images', label: 'nav.images', className: 'num', render: (c) => c.images },
              {
                key: 'crit',
                label: 'sev.CRITICAL',
                className: 'num sevtext-critical',
                render: (c) => c.critical,
              },
              { key: 'high', label: 'sev.HIGH', className: 'num sevtext-high', render: (c) => c.high },
            ]}
          />
        </>
      )}
      {!fixedKind && <h2>{t('runtime.agents')}</h2>}
      {!fixedKind && (
        <SimpleTable
          testId="runtime-agents"
          rows={agents.data?.items}
          rowKey={(a) => `${a.cluster}/${a.node}`}
          columns={[
            {
              key: 'node',
              label: 'runtime.node',
              render: (a) => (
                <span>
                  {a.node}
                  {a.cluster ? <span className="muted small"> {a.cluster}</span> : null}
                </span>
              ),
            },
            {
              key: 'seen',
              label: 'runtime.lastSeen',
              render: (a) => (
                <span className={a.stale ? 'sevtext-high' : ''}>
                  {fmtDate(a.lastSeen)}
                  {a.stale ? ` · ${t('runtime.stale')}` : ''}
                </span>
              ),
            },
            { key: 'rules', label: 'runtime.rules', className: 'num', render: (a) => a.rules },
            {
              key: 'events',
              label: 'runtime.events',
              className: 'num',
              render: (a) => a.events.toLocaleString(),
            },
            {
              key: 'drops',
              label: 'runtime.drops',
              className: 'num',
              render: (a) => (
                <span
                  className={a.drops ? 'sevtext-critical' : ''}
                  title={Object.entries(a.kernel)
                    .filter(([, k]) => k.drops)
                    .map(([ty, k]) => `${ty}: ${k.drops}`)
                    .join(', ')}
                >
                  {a.drops}
                </span>
              ),
            },
            {
              key: 'buffer',
              label: 'runtime.buffer',
              className: 'num',
              render: (a) =>
                a.buffer
                  ? `${Math.round(a.buffer.pendingBytes / 1024)} KiB${a.buffer.dropped ? ` · −${a.buffer.dropped}` : ''}`
                  : '',
            },
            {
              key: 'benchmarks',
              label: 'runtime.benchmarks',
              render: (a) => {
                const n = benches.data?.items.find((b) => b.node === a.node && b.cluster === a.cluster);
                if (!n) return <span className="muted">—</span>;
                return (
                  <span data-testid={`agent-bench-${a.node}`}>
                    {n.benchmarks.map((b) => (
                      <span key={b.target} className="small">
                        <Link to={benchmarkUrl(n.cluster, n.node, b.target)}>
                          {t(`bench.target.${b.target}` as Key)} {b.score === null ? '—' : `${b.score}%`}
                        </Link>
                        {b.status === 'error' ? ' ⚠' : ''}{' '}
                      </span>
                    ))}
                  </span>
                );
              },
            },
            { key: 'version', label: 'runtime.version', render: (a) => a.version },
          ]}
        />
      )}
      {!fixedKind && <h2>{t('runtime.events')}</h2>}
      <div className="filters">
        <select
          value={windowKey}
          onChange={(e) => setWindowKey(e.target.value)}
          aria-label={t('runtime.window')}
        >
          {Object.keys(WINDOWS).map((w) => (
            <option key={w} value={w}>
              {t(`runtime.window.${w}` as Key)}
            </option>
          ))}
        </select>
        <select
          value={priority}
          onChange={(e) => setPriority(e.target.value)}
          aria-label={t('runtime.priority')}
        >
          <option value="">{t('runtime.allPriorities')}</option>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {t('runtime.atLeast', { priority: t(`prio.${p}` as Key) })}
            </option>
          ))}
        </select>
        <select
          value={kind}
          onChange={(e) => setKind(e.target.value)}
          aria-label={t('runtime.kind')}
          disabled={!!fixedKind}
        >
          <option value="">{t('runtime.allKinds')}</option>
          {(['alert', 'deviation', 'response', 'admission', 'waf'] as const).map((k) => (
            <option key={k} value={k}>
              {t(`runtime.kind.${k}`)}
            </option>
          ))}
        </select>
        {(
          [
            ['runtime.cluster', cluster, setCluster],
            ['runtime.rule', rule, setRule],
            ['runtime.namespace', namespace, setNamespace],
            ['runtime.image', image, setImage],
            ['runtime.container', container, setContainer],
            ['runtime.tag', tag, setTag],
            ['runtime.search', q, setQ],
          ] as [Key, string, (v: string) => void][]
        ).map(([label, value, set]) => (
          <input
            key={label}
            placeholder={t(label)}
            value={value}
            onChange={(e) => set(e.target.value)}
            aria-label={t(label)}
          />
        ))}
      </div>
      <ErrorBox error={summary.error} />
      <p className="muted" data-testid="runtime-total">
        {t('runtime.total', { count: s?.total ?? 0 })}
      </p>
      <div className="facets">
        <Facet
          testId="facet-priority"
          title={t('runtime.priority')}
          groups={s?.byPriority}
          active={priority}
          onPick={setPriority}
          label={(k) => <PriorityBadge p={k} />}
        />
        <Facet
          testId="facet-rule"
          title={t('runtime.rule')}
          groups={s?.byRule}
          active={rule}
          onPick={setRule}
        />
        <Facet
          testId="facet-technique"
          title={t('runtime.technique')}
          groups={s?.byTechnique}
          active={tag}
          onPick={setTag}
          label={(k) => `${k} ${TECHNIQUES[k] ?? ''}`}
        />
        <Facet
          testId="facet-namespace"
          title={t('runtime.namespace')}
          groups={s?.byNamespace.filter((g) => g.key)}
          active={namespace}
          onPick={setNamespace}
        />
        <Facet
          testId="facet-image"
          title={t('runtime.image')}
          groups={s?.byImage.filter((g) => g.key)}
          active={image}
          onPick={setImage}
        />
        <Facet
          testId="facet-container"
          title={t('runtime.container')}
          groups={s?.byContainer}
          active={container}
          onPick={setContainer}
          label={(k) => (k === 'host' ? t('runtime.host') : k.slice(0, 12))}
        />
      </div>
      <DataTable
        testId="runtime-table"
        list={list}
        rowKey={(r) => r.id}
        columns={[
          { key: 'time', label: 'col.date', sort: 'time', render: (r) => fmtDate(r.time) },
          { key: 'priority', label: 'runtime.priority', render: (r) => <PriorityBadge p={r.priority} /> },
          {
            key: 'rule',
            label: 'runtime.rule',
            render: (r) => (
              <Link to={`/runtime/${r.id}`}>
                {r.kind !== 'alert' ? `[${t(`runtime.kind.${r.kind}` as Key)}] ` : ''}
                {r.rule}
              </Link>
            ),
          },
          {
            key: 'where',
            label: 'runtime.where',
            render: (r) => <span title={r.container.image}>{where(r)}</span>,
          },
          { key: 'node', label: 'runtime.node', render: (r) => r.node },
          {
            key: 'tech',
            label: 'runtime.technique',
            render: (r) => (
              <span className="tags">
                {r.techniques.map((x) => (
                  <span key={x} className="tag technique" title={TECHNIQUES[x] ?? x}>
                    {x}
                  </span>
                ))}
              </span>
            ),
          },
          {
            key: 'output',
            label: 'runtime.output',
            className: 'title',
            render: (r) => <span className="small">{r.output}</span>,
          },
        ]}
      />
    </div>
  );
}

export function RuntimeEventPage({ id, me }: { id: number; me?: Me['user'] }) {
  const { t } = useT();
  const r = useResource<RuntimeEventDetail>(`/api/runtime/events/${id}`);
  const [undo, setUndo] = useState<{ error?: unknown; asked?: boolean }>({});
  const e = r.data;
  if (r.error) return <ErrorBox error={r.error} />;
  if (!e) return <p className="muted">{t('common.loading')}</p>;
  const resp = e.event.response as { reversible?: boolean; status?: string; undoes?: string } | undefined;
  // a response in force can be undone here too (also one of no workload); the server says when it cannot
  const undoable =
    e.kind === 'response' &&
    resp?.reversible &&
    resp.status === 'done' &&
    !resp.undoes &&
    (me?.role === 'operator' || me?.role === 'admin');
  return (
    <div data-testid="runtime-event">
      <p>
        {e.kind === 'admission' ? (
          <Link to="/admission">← {t('nav.admission')}</Link>
        ) : (
          <Link to="/runtime">← {t('nav.runtime')}</Link>
        )}
      </p>
      <h1>
        <PriorityBadge p={e.priority} /> {e.rule}
      </h1>
      <p className="output" data-testid="runtime-output">
        {e.output}
      </p>
      {undoable && (
        <p>
          <button
            data-testid="event-undo"
            disabled={undo.asked}
            onClick={() =>
              post(`/api/runtime/events/${e.id}/undo`).then(
                () => setUndo({ asked: true }),
                (error: unknown) => setUndo({ error }),
              )
            }
          >
            {t('profiles.undo')}
          </button>
          {undo.asked && (
            <span className="muted small" data-testid="event-undo-asked">
              {' '}
              {t('profiles.state.undoing')}
            </span>
          )}
        </p>
      )}
      <ErrorBox error={undo.error} />
      <dl className="facts">
        <dt>{t('col.date')}</dt>
        <dd>{e.time}</dd>
        <dt>{t('runtime.node')}</dt>
        <dd>
          {e.node}
          {e.cluster ? ` (${e.cluster})` : ''}
        </dd>
        <dt>{t('runtime.container')}</dt>
        <dd>
          {e.container.id === 'host' ? (
            t('runtime.host')
          ) : (
            <button
              className="linkbtn"
              onClick={() => navigate(`/runtime?container=${e.container.id}&window=all`)}
            >
              {e.container.name} <code className="small">{e.container.id.slice(0, 12)}</code>
            </button>
          )}
        </dd>
        {e.container.image && (
          <>
            <dt>{t('runtime.image')}</dt>
            <dd>{e.container.image}</dd>
          </>
        )}
        {e.k8s.pod && (
          <>
            <dt>{t('runtime.pod')}</dt>
            <dd>
              {e.k8s.namespace}/{e.k8s.pod}
            </dd>
          </>
        )}
        {typeof e.event.workload === 'string' && e.event.workload && (
          <>
            <dt>{t('profiles.workload')}</dt>
            <dd>
              <Link to={workloadUrl(e.cluster, e.event.workload)}>{e.event.workload}</Link>
            </dd>
          </>
        )}
        <dt>{t('runtime.tags')}</dt>
        <dd className="tags" data-testid="runtime-tags">
          {e.techniques.map((x) => (
            <Technique key={x} id={x} />
          ))}
          {e.tags
            .filter((x) => !e.techniques.includes(x))
            .map((x) => (
              <span key={x} className="tag">
                {x}
              </span>
            ))}
        </dd>
      </dl>
      <h2>{t('runtime.processTree')}</h2>
      {e.processTree.length === 0 ? (
        <p className="muted">{t('runtime.noTree')}</p>
      ) : (
        <ol className="ptree" data-testid="process-tree">
          {e.processTree.map((p, i) => (
            <li
              key={i}
              style={{ paddingLeft: `${i * 1.2}em` }}
              className={i === e.processTree.length - 1 ? 'leaf' : ''}
            >
              <code>
                {i > 0 ? '└─ ' : ''}
                {p.name}
              </code>
              {p.pid !== undefined && <span className="muted small"> pid {p.pid}</span>}
              {p.cmdline && <span className="small"> {p.cmdline}</span>}
              {p.user && <span className="muted small"> ({p.user})</span>}
            </li>
          ))}
        </ol>
      )}
      <h2>{t('runtime.related')}</h2>
      <SimpleTable
        testId="runtime-related"
        rows={e.related}
        rowKey={(x) => x.id}
        columns={[
          { key: 'time', label: 'col.date', render: (x) => fmtDate(x.time) },
          { key: 'priority', label: 'runtime.priority', render: (x) => <PriorityBadge p={x.priority} /> },
          {
            key: 'rule',
            label: 'runtime.rule',
            render: (x) => <Link to={`/runtime/${x.id}`}>{x.rule}</Link>,
          },
          {
            key: 'output',
            label: 'runtime.output',
            className: 'title',
            render: (x) => <span className="small">{x.output}</span>,
          },
        ]}
      />
      <h2>{t(e.kind === 'alert' ? 'runtime.falcoJson' : 'runtime.eventJson')}</h2>
      <pre className="json" data-testid="falco-json">
        {JSON.stringify(e.kind === 'alert' ? e.falco : e.event, null, 2)}
      </pre>
    </div>
  );
}
