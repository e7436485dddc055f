/**
 * The east-west network map: workloads as nodes in one column per namespace (external peers last),
 * observed flows as edges labelled with protocol and port, dropped ones in red; a click on an edge
 * or a node shows its flows. The table below lists every edge with its counts and first/last seen.
 */
import { useMemo, useState } from 'react';
import type { NetworkFlow, NetworkMap } from '../api';
import { DataTable, ErrorBox, fmtDate, useResource, useServerList } from '../components';
import { useT, type Key } from '../i18n';
import { useLocation } from '../router';

const WINDOWS: Record<string, number | undefined> = {
  '1h': 3600e3,
  '24h': 86400e3,
  '7d': 7 * 86400e3,
  all: undefined,
};
const COL_W = 300;
const ROW_H = 56;
const NODE_W = 170;
const NODE_H = 30;
const TOP = 40;

/** The curve of an edge between two node boxes (left/right sides facing each other; same column: loop out right). */
function curve(
  a: { x: number; y: number },
  b: { x: number; y: number },
): { d: string; lx: number; ly: number } {
  const ay = a.y + NODE_H / 2;
  const by = b.y + NODE_H / 2;
  if (b.x > a.x) {
    const x1 = a.x + NODE_W;
    const x2 = b.x;
    const dx = (x2 - x1) / 2;
    return {
      d: `M ${x1} ${ay} C ${x1 + dx} ${ay}, ${x2 - dx} ${by}, ${x2} ${by}`,
      lx: (x1 + x2) / 2,
      ly: (ay + by) / 2 - 4,
    };
  }
  if (b.x < a.x) {
    const x1 = a.x;
    const x2 = b.x + NODE_W;
    const dx = (x1 - x2) / 2;
    return {
      d: `M ${x1} ${ay} C ${x1 - dx} ${ay}, ${x2 + dx} ${by}, ${x2} ${by}`,
      lx: (x1 + x2) / 2,
      ly: (ay + by) / 2 + 12,
    };
  }
  const x = a.x + NODE_W;
  const out = 40 + Math.abs(by - ay) / 4;
  return {
    d: `M ${x} ${ay} C ${x + out} ${ay}, ${x + out} ${by}, ${x} ${by}`,
    lx: x + out * 0.75 + 2,
    ly: (ay + by) / 2 + 4,
  };
}

function qs(f: Record<string, string | undefined>): string {
  return Object.entries(f)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join('&');
}

export function NetworkPage() {
  const { t } = useT();
  const { query } = useLocation();
  const [cluster, setCluster] = useState(query.get('cluster') ?? '');
  const [namespace, setNamespace] = useState(query.get('namespace') ?? '');
  const [windowKey, setWindowKey] = useState(query.get('window') ?? 'all');
  const [picked, setPicked] = useState<{ edge?: number; node?: string }>({});
  const [now] = useState(() => Date.now());
  const span = WINDOWS[windowKey];
  const since = span === undefined ? undefined : new Date(now - span).toISOString();
  const filters = { cluster: cluster || undefined, namespace: namespace || undefined, since };
  const map = useResource<NetworkMap>(`/api/network/map?${qs(filters)}`);
  const list = useServerList<NetworkFlow>('/api/network/flows', filters, { sort: 'lastSeen', order: 'desc' });
  const layout = useMemo(() => {
    const m = map.data;
    if (!m) return undefined;
    const groups = new Map<string, typeof m.nodes>();
    for (const n of m.nodes) {
      const g = n.kind === 'External' ? '\u{10FFFF}' : n.namespace;
      groups.set(g, [...(groups.get(g) ?? []), n]);
    }
    const cols = [...groups.keys()].sort();
    const pos = new Map<string, { x: number; y: number }>();
    cols.forEach((c, i) =>
      groups.get(c)!.forEach((n, j) => pos.set(n.id, { x: 20 + i * COL_W, y: TOP + j * ROW_H })),
    );
    const height = TOP + Math.max(1, ...[...groups.values()].map((g) => g.length)) * ROW_H + 10;
    // each edge's curve and label position, for the lines and the labels drawn above them
    const geo = new Map(m.edges.map((e) => [e.id, curve(pos.get(e.source)!, pos.get(e.destination)!)]));
    return { cols, groups, pos, geo, width: Math.max(400, cols.length * COL_W + 20), height };
  }, [map.data]);
  const edges = map.data?.edges ?? [];
  const shown = picked.edge
    ? edges.filter((e) => e.id === picked.edge)
    : picked.node
      ? edges.filter((e) => e.source === picked.node || e.destination === picked.node)
      : [];
  return (
    <div>
      <h1>{t('nav.network')}</h1>
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
        <input
          placeholder={t('runtime.cluster')}
          value={cluster}
          onChange={(e) => setCluster(e.target.value)}
          aria-label={t('runtime.cluster')}
        />
        <input
          placeholder={t('runtime.namespace')}
          value={namespace}
          onChange={(e) => setNamespace(e.target.value)}
          aria-label={t('runtime.namespace')}
        />
      </div>
      <ErrorBox error={map.error} />
      {map.data?.truncated && <p className="muted">{t('network.truncated')}</p>}
      {layout && edges.length === 0 && <p className="muted">{t('network.empty')}</p>}
      {layout && edges.length > 0 && (
        <div className="netmap">
          <svg
            width={layout.width}
            height={layout.height}
            viewBox={`0 0 ${layout.width} ${layout.height}`}
            data-testid="network-map"
            role="img"
            aria-label={t('nav.network')}
          >
            <defs>
              <marker
                id="arrow"
                viewBox="0 0 10 10"
                refX="9"
                refY="5"
                markerWidth="7"
                markerHeight="7"
                orient="auto-start-reverse"
              >
                <path d="M 0 0 L 10 5 L 0 10 z" fill="#667" />
              </marker>
              <marker
                id="arrow-red"
                viewBox="0 0 10 10"
                refX="9"
                refY="5"
                markerWidth="7"
                markerHeight="7"
                orient="auto-start-reverse"
              >
                <path d="M 0 0 L 10 5 L 0 10 z" fill="#b3261e" />
              </marker>
            </defs>
            {layout.cols.map((c, i) => (
              <text key={c} x={20 + i * COL_W} y={20} className="ns-label">
                {c === '\u{10FFFF}' ? t('network.external') : c}
              </text>
            ))}
            {edges.map((e) => {
              const { d } = layout.geo.get(e.id)!;
              const bad = e.verdict !== 'FORWARDED';
              const on = picked.edge === e.id || picked.node === e.source || picked.node === e.destination;
              return (
                <g
                  key={e.id}
                  className={`edge ${bad ? 'bad' : ''} ${on ? 'on' : ''}`}
                  onClick={() => setPicked({ edge: e.id })}
                  data-testid="network-edge"
                >
                  <title>{`${e.source} → ${e.destination} ${e.protocol} ${e.port ?? ''} (${e.verdict}, ${e.count})`}</title>
                  <path d={d} fill="none" className="hit" />
                  <path d={d} fill="none" markerEnd={bad ? 'url(#arrow-red)' : 'url(#arrow)'} />
                </g>
              );
            })}
            {/* labels above every edge line, so each can be clicked */}
            {edges.map((e) => {
              const { lx, ly } = layout.geo.get(e.id)!;
              return (
                <text
                  key={`l${e.id}`}
                  x={lx}
                  y={ly}
                  textAnchor="middle"
                  className={`edge-label ${e.verdict !== 'FORWARDED' ? 'bad' : ''}`}
                  onClick={() => setPicked({ edge: e.id })}
                  data-testid="network-edge-label"
                >
                  {e.protocol} {e.port ?? ''}
                </text>
              );
            })}
            {[...layout.pos].map(([id, p]) => {
              const n = map.data!.nodes.find((x) => x.id === id)!;
              return (
                <g
                  key={id}
                  className={`node ${n.kind === 'External' ? 'ext' : ''} ${picked.node === id ? 'on' : ''}`}
                  onClick={() => setPicked({ node: id })}
                  data-testid="network-node"
                >
                  <title>{id}</title>
                  <rect x={p.x} y={p.y} width={NODE_W} height={NODE_H} rx={6} />
                  <text x={p.x + 8} y={p.y + 19}>
                    {n.name.length > 20 ? n.name.slice(0, 19) + '…' : n.name}
                    <tspan className="kind"> {n.kind}</tspan>
                  </text>
                </g>
              );
            })}
          </svg>
        </div>
      )}
      {shown.length > 0 && (
        <div className="panel" data-testid="network-detail">
          <h3>{picked.node ?? `${shown[0]!.source} → ${shown[0]!.destination}`}</h3>
          <table>
            <thead>
              <tr>
                <th>{t('network.source')}</th>
                <th>{t('network.destination')}</th>
                <th>{t('network.port')}</th>
                <th>{t('network.verdict')}</th>
                <th className="num">{t('network.count')}</th>
                <th>{t('network.firstSeen')}</th>
                <th>{t('network.lastSeen')}</th>
                <th>{t('runtime.node')}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((e) => (
                <tr key={e.id}>
                  <td>{e.source}</td>
                  <td>{e.destination}</td>
                  <td>
                    {e.protocol} {e.port ?? ''}
                  </td>
                  <td className={e.verdict !== 'FORWARDED' ? 'sevtext-critical' : ''}>{e.verdict}</td>
                  <td className="num">{e.count}</td>
                  <td>{fmtDate(e.firstSeen)}</td>
                  <td>{fmtDate(e.lastSeen)}</td>
                  <td>{e.nodes.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>{t('network.flows')}</h2>
      <DataTable
        testId="network-table"
        list={list}
        rowKey={(r) => r.id}
        columns={[
          { key: 'src', label: 'network.source', render: (r) => r.source },
          { key: 'dst', label: 'network.destination', render: (r) => r.destination },
          { key: 'port', label: 'network.port', render: (r) => `${r.protocol} ${r.port ?? ''}` },
          {
            key: 'verdict',
            label: 'network.verdict',
            render: (r) => (
              <span className={r.verdict !== 'FORWARDED' ? 'sevtext-critical' : ''}>{r.verdict}</span>
            ),
          },
          { key: 'count', label: 'network.count', sort: 'count', className: 'num', render: (r) => r.count },
          { key: 'last', label: 'network.lastSeen', sort: 'lastSeen', render: (r) => fmtDate(r.lastSeen) },
          { key: 'cluster', label: 'runtime.cluster', render: (r) => r.cluster || '—' },
        ]}
      />
    </div>
  );
}
