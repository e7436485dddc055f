/** Shared UI pieces: server-paged sortable tables, severity badges, links, the trend chart. */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError, get, qs, type Counts, type Page, type Severity } from './api';
import { serverText, useT, type Key } from './i18n';
import { navigate } from './router';

export function Link({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  return (
    <a
      href={to}
      className={className}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function SeverityBadge({ s }: { s: Severity | string }) {
  const { t } = useT();
  const key = `sev.${s}` as Key;
  return <span className={`sev sev-${s.toLowerCase()}`}>{t(key)}</span>;
}

export function CountsCells({ c }: { c: Counts }) {
  return (
    <>
      <td className="num sevtext-critical">{c.critical}</td>
      <td className="num sevtext-high">{c.high}</td>
      <td className="num sevtext-medium">{c.medium}</td>
      <td className="num sevtext-low">{c.low}</td>
    </>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  const { lang } = useT();
  if (!error) return null;
  const msg =
    error instanceof ApiError
      ? `${serverText(lang, error.message, error.key, error.params, error.localized)} (${error.code})`
      : String((error as Error).message ?? error);
  return (
    <div className="error" role="alert">
      {msg}
    </div>
  );
}

/** Loads a JSON resource; `reload()` fetches it again. */
export function useResource<T>(path: string | null): {
  data?: T;
  error?: unknown;
  loading: boolean;
  reload: () => void;
} {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    get<T>(path).then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { ...state, reload };
}

export interface Column<T> {
  key: string;
  label: Key;
  /** The server's sort field for this column, when it can sort by it. */
  sort?: string;
  className?: string;
  render: (row: T) => ReactNode;
}

/** Page, sort and filter state of one server-side list; the filters are query parameters. */
export interface ServerList<T> {
  data?: Page<T>;
  error?: unknown;
  loading: boolean;
  reload: () => void;
  page: number;
  setPage: (p: number) => void;
  sort: { sort: string; order: 'asc' | 'desc' };
  setSort: (
    f: (s: { sort: string; order: 'asc' | 'desc' }) => { sort: string; order: 'asc' | 'desc' },
  ) => void;
  /** Download of every matching row (not this page), in the list's order: `?export=csv|json`. */
  exportUrl: (format: 'csv' | 'json') => string;
  pageSize: number;
}

export function useServerList<T>(
  path: string,
  filters: Record<string, string | number | undefined>,
  initialSort: { sort: string; order: 'asc' | 'desc' },
  pageSize = 25,
): ServerList<T> {
  const [page, setPage] = useState(1);
  const [sort, setSort] = useState(initialSort);
  const key = JSON.stringify(filters);
  useEffect(() => setPage(1), [key]);
  const res = useResource<Page<T>>(
    `${path}${qs({ ...filters, page, pageSize, sort: sort.sort, order: sort.order })}`,
  );
  const exportUrl = (format: 'csv' | 'json') =>
    `${path}${qs({ ...filters, sort: sort.sort, order: sort.order, export: format })}`;
  return { ...res, page, setPage, sort, setSort, pageSize, exportUrl };
}

export function DataTable<T>({
  list,
  columns,
  rowKey,
  testId,
}: {
  list: ServerList<T>;
  columns: Column<T>[];
  rowKey: (row: T) => string | number;
  testId?: string;
}) {
  const { t } = useT();
  const data = list.data;
  const pages = data ? Math.max(1, Math.ceil(data.total / list.pageSize)) : 1;
  return (
    <div className="tablewrap" data-testid={testId}>
      <ErrorBox error={list.error} />
      <table>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} className={c.className}>
                {c.sort ? (
                  <button
                    className="sortbtn"
                    onClick={() =>
                      list.setSort((s) =>
                        s.sort === c.sort
                          ? { sort: s.sort, order: s.order === 'asc' ? 'desc' : 'asc' }
                          : { sort: c.sort!, order: 'desc' },
                      )
                    }
                  >
                    {t(c.label)} {list.sort.sort === c.sort ? (list.sort.order === 'asc' ? '▲' : '▼') : ''}
                  </button>
                ) : (
                  t(c.label)
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data?.items.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((c) => (
                <td key={c.key} className={c.className}>
                  {c.render(row)}
                </td>
              ))}
            </tr>
          ))}
          {data && data.items.length === 0 && (
            <tr>
              <td colSpan={columns.length} className="empty">
                {t('common.empty')}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="pager">
        <button disabled={list.page <= 1} onClick={() => list.setPage(list.page - 1)}>
          {t('common.prev')}
        </button>
        <span>{t('common.pageOf', { page: list.page, pages, total: data?.total ?? 0 })}</span>
        <button disabled={list.page >= pages} onClick={() => list.setPage(list.page + 1)}>
          {t('common.next')}
        </button>
        {list.loading && <span className="muted">{t('common.loading')}</span>}
        <span className="export">
          <a href={list.exportUrl('csv')} download data-testid="export-csv">
            {t('common.exportCsv')}
          </a>{' '}
          <a href={list.exportUrl('json')} download data-testid="export-json">
            {t('common.exportJson')}
          </a>
        </span>
      </div>
    </div>
  );
}

/** Plain table for short unpaged lists (registries, users, rules...). */
export function SimpleTable<T>({
  rows,
  columns,
  rowKey,
  testId,
}: {
  rows: T[] | undefined;
  columns: Column<T>[];
  rowKey: (row: T) => string | number;
  testId?: string;
}) {
  const { t } = useT();
  return (
    <div className="tablewrap" data-testid={testId}>
      <table>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} className={c.className}>
                {t(c.label)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows?.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((c) => (
                <td key={c.key} className={c.className}>
                  {c.render(row)}
                </td>
              ))}
            </tr>
          ))}
          {rows && rows.length === 0 && (
            <tr>
              <td colSpan={columns.length} className="empty">
                {t('common.empty')}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

const TREND_COLORS: [keyof Counts, string][] = [
  ['critical', '#b3261e'],
  ['high', '#e8710a'],
  ['medium', '#d4a106'],
  ['low', '#4a7bd0'],
];

/** Findings per day by severity as an SVG line chart (no chart library). */
export function TrendChart({ points }: { points: (Counts & { date: string })[] }) {
  const { t } = useT();
  const W = 640;
  const H = 200;
  const pad = { l: 40, r: 28, t: 10, b: 28 };
  if (points.length === 0) return <p className="muted">{t('dash.noTrend')}</p>;
  const max = Math.max(1, ...points.flatMap((p) => TREND_COLORS.map(([k]) => p[k])));
  const x = (i: number) =>
    pad.l + (points.length === 1 ? (W - pad.l - pad.r) / 2 : (i * (W - pad.l - pad.r)) / (points.length - 1));
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const ticks = [0, Math.round(max / 2), max];
  return (
    <svg viewBox={`0 0 ${W} ${H}`} className="trend" role="img" aria-label={t('dash.trend')}>
      {ticks.map((v) => (
        <g key={v}>
          <line x1={pad.l} x2={W - pad.r} y1={y(v)} y2={y(v)} stroke="#ddd" />
          <text x={pad.l - 6} y={y(v) + 4} textAnchor="end" fontSize="11" fill="#666">
            {v}
          </text>
        </g>
      ))}
      {TREND_COLORS.map(([k, color]) => (
        <g key={k}>
          <polyline
            fill="none"
            stroke={color}
            strokeWidth="2"
            points={points.map((p, i) => `${x(i)},${y(p[k])}`).join(' ')}
          />
          {points.map((p, i) => (
            <circle key={i} cx={x(i)} cy={y(p[k])} r="3" fill={color}>
              <title>{`${p.date} ${t(`sev.${k.toUpperCase()}` as Key)}: ${p[k]}`}</title>
            </circle>
          ))}
        </g>
      ))}
      {points.map((p, i) =>
        i === 0 || i === points.length - 1 || i % Math.ceil(points.length / 6) === 0 ? (
          <text
            key={p.date}
            x={x(i)}
            y={H - 8}
            textAnchor={i === points.length - 1 ? 'end' : 'middle'}
            fontSize="11"
            fill="#666"
          >
            {p.date.slice(5)}
          </text>
        ) : null,
      )}
    </svg>
  );
}

export function TrendLegend() {
  const { t } = useT();
  return (
    <div className="legend">
      {TREND_COLORS.map(([k, color]) => (
        <span key={k}>
          <i style={{ background: color }} /> {t(`sev.${k.toUpperCase()}` as Key)}
        </span>
      ))}
    </div>
  );
}

export function fmtDate(s: string | null | undefined): string {
  if (!s) return '—';
  const d = new Date(s);
  // The UI language (set on <html lang> by the i18n provider), not the browser's.
  return isNaN(d.getTime()) ? s : d.toLocaleString(document.documentElement.lang || undefined);
}

export function shortDigest(d: string): string {
  return d.replace(/^sha256:/, '').slice(0, 12);
}
