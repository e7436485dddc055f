/** Images list and image page (findings with filters and suppression, packages, layers, scans, SBOM download). */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import {
  ApiError,
  type ErrorJson,
  get,
  post,
  SEVERITIES,
  type Counts,
  type Finding,
  type Image,
  type Me,
  type Page,
  type Registry,
  type ScanReport,
  type Severity,
} from '../api';
import {
  CountsCells,
  DataTable,
  ErrorBox,
  fmtDate,
  Link,
  SeverityBadge,
  shortDigest,
  SimpleTable,
  useResource,
  useServerList,
  type Column,
} from '../components';
import { useT, type Key } from '../i18n';
import { useLocation } from '../router';

export function ImagesPage() {
  const { t } = useT();
  const [q, setQ] = useState('');
  const [registryId, setRegistryId] = useState('');
  const regs = useResource<{ items: Registry[] }>('/api/registries');
  const list = useServerList<Image>('/api/images', { q, registryId }, { sort: 'critical', order: 'desc' });
  return (
    <div>
      <h1>{t('nav.images')}</h1>
      <div className="filters">
        <input
          placeholder={t('images.search')}
          value={q}
          onChange={(e) => setQ(e.target.value)}
          aria-label={t('images.search')}
        />
        <select
          value={registryId}
          onChange={(e) => setRegistryId(e.target.value)}
          aria-label={t('nav.registries')}
        >
          <option value="">{t('images.allRegistries')}</option>
          {regs.data?.items.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
      </div>

      <DataTable
        testId="images-table"
        list={list}
        rowKey={(r) => r.id}
        columns={[
          {
            key: 'name',
            label: 'col.image',
            sort: 'name',
            render: (r) => <Link to={`/images/${r.id}`}>{r.name}</Link>,
          },
          { key: 'tags', label: 'col.tags', render: (r) => r.tags.join(', ') },
          { key: 'digest', label: 'col.digest', render: (r) => <code>{shortDigest(r.digest)}</code> },
          {
            key: 'critical',
            label: 'sev.CRITICAL',
            sort: 'critical',
            className: 'num',
            render: (r) => <span className="sevtext-critical">{r.counts.critical}</span>,
          },
          {
            key: 'high',
            label: 'sev.HIGH',
            sort: 'high',
            className: 'num',
            render: (r) => <span className="sevtext-high">{r.counts.high}</span>,
          },
          { key: 'medium', label: 'sev.MEDIUM', className: 'num', render: (r) => r.counts.medium },
          { key: 'low', label: 'sev.LOW', className: 'num', render: (r) => r.counts.low },
          {
            key: 'lastScanAt',
            label: 'col.lastScan',
            sort: 'lastScanAt',
            render: (r) => fmtDate(r.lastScanAt),
          },
        ]}
      />
    </div>
  );
}

/** Whether the server offers SBOM downloads of a stored scan (feature-detected from the OpenAPI document). */
function useSbomRoute(): boolean {
  const [has, setHas] = useState(false);
  useEffect(() => {
    get<{ paths: Record<string, unknown> }>('/api/openapi.json').then(
      (d) => setHas(Boolean(d.paths['/api/scans/{id}/sbom'])),
      () => setHas(false),
    );
  }, []);
  return has;
}

type Tab = 'findings' | 'packages' | 'layers' | 'scans' | 'signatures';

export function ImagePage({ id, me }: { id: number; me: Me['user'] }) {
  const { t } = useT();
  const img = useResource<Image>(`/api/images/${id}`);
  // ?tab=findings&package=NAME: a package's findings within this image (from the Packages tab)
  const { query } = useLocation();
  const wantTab = query.get('tab') as Tab | null;
  const pkgFilter = query.get('package') ?? '';
  const [tab, setTab] = useState<Tab>(wantTab ?? 'findings');
  useEffect(() => {
    if (wantTab) setTab(wantTab);
  }, [wantTab, pkgFilter]);
  const hasSbom = useSbomRoute();
  const [sbomError, setSbomError] = useState<unknown>();
  /** Fetches the SBOM first so a refusal (e.g. a CI upload without a package list) shows its message here. */
  async function downloadSbom(scanId: number, format: 'cyclonedx' | 'spdx') {
    setSbomError(undefined);
    try {
      const res = await fetch(`/api/scans/${scanId}/sbom?format=${format}`, { credentials: 'same-origin' });
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as ErrorJson;
        throw new ApiError(
          res.status,
          body.error?.code ?? String(res.status),
          body.error?.message ?? `HTTP ${res.status}`,
          body.error?.key,
          body.error?.params,
          body.error?.localized,
        );
      }
      const name =
        /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ??
        `scan-${scanId}.${format}.json`;
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setSbomError(e);
    }
  }
  const image = img.data;
  return (
    <div>
      <ErrorBox error={img.error} />
      {image && (
        <>
          <h1 data-testid="image-name">{image.name}</h1>
          <div className="meta">
            <span>
              {t('col.digest')}: <code>{image.digest}</code>
            </span>
            <span>
              {t('col.tags')}: {image.tags.join(', ') || '—'}
            </span>
            <span>
              {t('col.os')}: {image.os ?? '—'}
            </span>
            <span>
              {t('col.lastScan')}: {fmtDate(image.lastScanAt)}
            </span>
            <SignedBadge imageId={image.id} />
          </div>
          <table className="counts">
            <thead>
              <tr>
                <th>{t('sev.CRITICAL')}</th>
                <th>{t('sev.HIGH')}</th>
                <th>{t('sev.MEDIUM')}</th>
                <th>{t('sev.LOW')}</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <CountsCells c={image.counts} />
              </tr>
            </tbody>
          </table>
          <ErrorBox error={sbomError} />
          {image.lastScanId !== null && (
            <div className="downloads">
              <span>{t('image.sbom')}:</span>
              {hasSbom ? (
                <>
                  <button onClick={() => downloadSbom(image.lastScanId!, 'cyclonedx')}>CycloneDX 1.6</button>
                  <button onClick={() => downloadSbom(image.lastScanId!, 'spdx')}>SPDX 2.3</button>
                </>
              ) : (
                <span className="muted">{t('image.sbomUnavailable')}</span>
              )}
              <a href={`/api/scans/${image.lastScanId}/report`} download={`scan-${image.lastScanId}.json`}>
                {t('image.reportJson')}
              </a>
            </div>
          )}
          <div className="tabs" role="tablist">
            {(['findings', 'packages', 'layers', 'scans', 'signatures'] as Tab[]).map((k) => (
              <button
                key={k}
                role="tab"
                aria-selected={tab === k}
                className={tab === k ? 'active' : ''}
                onClick={() => setTab(k)}
              >
                {t(`image.tab.${k}` as Key)}
              </button>
            ))}
          </div>
          {tab === 'findings' && (
            <FindingsView key={pkgFilter} image={image} me={me} onChange={img.reload} pkg={pkgFilter} />
          )}
          {tab === 'packages' && image.lastScanId !== null && (
            <PackagesView scanId={image.lastScanId} imageId={image.id} />
          )}
          {tab === 'layers' && image.lastScanId !== null && <LayersView scanId={image.lastScanId} />}
          {tab === 'scans' && <ScansView imageId={image.id} />}
          {tab === 'signatures' && <SignaturesView imageId={image.id} />}
        </>
      )}
    </div>
  );
}

function FindingsView({
  image,
  me,
  onChange,
  pkg: initialPkg = '',
}: {
  image: Image;
  me: Me['user'];
  onChange: () => void;
  pkg?: string;
}) {
  const { t } = useT();
  const [pkg, setPkg] = useState(initialPkg);
  const [severity, setSeverity] = useState<string[]>([]);
  const [fixable, setFixable] = useState('');
  const [kind, setKind] = useState('');
  const [q, setQ] = useState('');
  const [suppressed, setSuppressed] = useState('exclude');
  const [suppressing, setSuppressing] = useState<Finding | null>(null);
  const list = useServerList<Finding>(
    '/api/findings',
    {
      imageId: image.id,
      severity: severity.join(','),
      fixable,
      kind,
      q,
      suppressed,
      package: pkg || undefined,
    },
    { sort: 'severity', order: 'desc' },
  );
  const canSuppress = me.role !== 'viewer';
  const columns: Column<Finding>[] = [
    {
      key: 'severity',
      label: 'col.severity',
      sort: 'severity',
      render: (r) => <SeverityBadge s={r.severity} />,
    },
    {
      key: 'advisory',
      label: 'col.advisory',
      sort: 'advisory',
      render: (r) => <Link to={`/advisories/${encodeURIComponent(r.advisoryId)}`}>{r.advisoryId}</Link>,
    },
    {
      key: 'package',
      label: 'col.package',
      sort: 'package',
      render: (r) => r.pkgName || <code className="small">{r.path}</code>,
    },
    { key: 'version', label: 'col.version', render: (r) => r.pkgVersion },
    {
      key: 'fixed',
      label: 'col.fixedIn',
      sort: 'fixable',
      render: (r) => r.fixedVersion || <span className="muted">{t('common.noFix')}</span>,
    },
    { key: 'title', label: 'col.title', className: 'title', render: (r) => r.title },
  ];
  if (canSuppress)
    columns.push({
      key: 'act',
      label: 'col.actions',
      render: (r) =>
        r.suppressed ? (
          <span className="muted">{t('findings.suppressed')}</span>
        ) : (
          <button data-testid={`suppress-${r.advisoryId}-${r.pkgName}`} onClick={() => setSuppressing(r)}>
            {t('findings.suppress')}
          </button>
        ),
    });
  return (
    <div>
      {pkg && (
        <p className="info" data-testid="package-filter">
          {t('findings.ofPackage', { name: pkg })}{' '}
          <button type="button" onClick={() => setPkg('')}>
            {t('findings.allPackages')}
          </button>
        </p>
      )}
      <div className="filters">
        <span>{t('col.severity')}:</span>
        {SEVERITIES.map((s) => (
          <label key={s} className="check">
            <input
              type="checkbox"
              checked={severity.includes(s)}
              onChange={(e) =>
                setSeverity(e.target.checked ? [...severity, s] : severity.filter((x) => x !== s))
              }
            />
            {t(`sev.${s}` as Key)}
          </label>
        ))}
        <select
          value={fixable}
          onChange={(e) => setFixable(e.target.value)}
          aria-label={t('findings.fixability')}
        >
          <option value="">{t('findings.fixAny')}</option>
          <option value="true">{t('findings.fixable')}</option>
          <option value="false">{t('findings.notFixable')}</option>
        </select>
        <select value={kind} onChange={(e) => setKind(e.target.value)} aria-label={t('col.kind')}>
          <option value="">{t('findings.allKinds')}</option>
          {['vulnerability', 'secret', 'misconfig', 'license', 'malware'].map((k) => (
            <option key={k} value={k}>
              {t(`kind.${k}` as Key)}
            </option>
          ))}
        </select>
        <select
          value={suppressed}
          onChange={(e) => setSuppressed(e.target.value)}
          aria-label={t('nav.suppressions')}
        >
          <option value="exclude">{t('findings.hideSuppressed')}</option>
          <option value="include">{t('findings.showSuppressed')}</option>
          <option value="only">{t('findings.onlySuppressed')}</option>
        </select>
        <input
          placeholder={t('findings.search')}
          value={q}
          onChange={(e) => setQ(e.target.value)}
          aria-label={t('findings.search')}
        />
      </div>
      {suppressing && (
        <SuppressForm
          finding={suppressing}
          me={me}
          onCancel={() => setSuppressing(null)}
          onDone={() => {
            setSuppressing(null);
            list.reload();
            onChange();
          }}
        />
      )}
      <DataTable testId="findings-table" list={list} rowKey={(r) => r.id} columns={columns} />
    </div>
  );
}

function SuppressForm({
  finding,
  me,
  onCancel,
  onDone,
}: {
  finding: Finding;
  me: Me['user'];
  onCancel: () => void;
  onDone: () => void;
}) {
  const { t } = useT();
  const [reason, setReason] = useState('');
  const [owner, setOwner] = useState(me.username);
  const [expires, setExpires] = useState('');
  const [scope, setScope] = useState<'image' | 'all'>('image');
  const [error, setError] = useState<unknown>();
  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      await post('/api/suppressions', {
        advisoryId: finding.advisoryId,
        pkgName: finding.pkgName,
        imageName: scope === 'image' ? finding.imageName : '',
        reason,
        owner,
        expiresAt: expires ? new Date(`${expires}T23:59:59Z`).toISOString() : null,
      });
      onDone();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <form className="panel" onSubmit={submit} data-testid="suppress-form">
      <h3>
        {t('findings.suppressTitle')} {finding.advisoryId} · {finding.pkgName}
      </h3>
      <label>
        {t('col.reason')}
        <input name="reason" value={reason} onChange={(e) => setReason(e.target.value)} required />
      </label>
      <label>
        {t('col.owner')}
        <input name="owner" value={owner} onChange={(e) => setOwner(e.target.value)} required />
      </label>
      <label>
        {t('col.expires')}
        <input name="expires" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
      </label>
      <label>
        {t('findings.scope')}
        <select value={scope} onChange={(e) => setScope(e.target.value as 'image' | 'all')}>
          <option value="image">{t('findings.scopeImage')}</option>
          <option value="all">{t('findings.scopeAll')}</option>
        </select>
      </label>
      <ErrorBox error={error} />
      <div className="row">
        <button type="submit" className="primary">
          {t('findings.suppress')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

const PKG_PAGE = 50;

/** Packages of the stored scan report (the API returns the report whole; paged here). */
function PackagesView({ scanId, imageId }: { scanId: number; imageId: number }) {
  const { t } = useT();
  const rep = useResource<ScanReport>(`/api/scans/${scanId}/report`);
  const [q, setQ] = useState('');
  const [page, setPage] = useState(1);
  const pkgs = useMemo(() => {
    const all = (rep.data?.results ?? []).flatMap((r) =>
      (r.packages ?? []).map((p) => ({ ...p, target: r.target })),
    );
    const needle = q.toLowerCase();
    return all
      .filter(
        (p) => !needle || p.name.toLowerCase().includes(needle) || p.purl.toLowerCase().includes(needle),
      )
      .sort((a, b) => a.name.localeCompare(b.name));
  }, [rep.data, q]);
  const pages = Math.max(1, Math.ceil(pkgs.length / PKG_PAGE));
  return (
    <div data-testid="packages-table">
      <ErrorBox error={rep.error} />
      {rep.data && !rep.data.results.some((r) => r.packages?.length) && (
        <p className="info" data-testid="no-packages">
          {t('packages.none')}
        </p>
      )}
      <div className="filters">
        <input
          placeholder={t('packages.search')}
          value={q}
          onChange={(e) => (setQ(e.target.value), setPage(1))}
          aria-label={t('packages.search')}
        />
      </div>
      <table>
        <thead>
          <tr>
            <th>{t('col.package')}</th>
            <th>{t('col.version')}</th>
            <th>{t('col.type')}</th>
            <th>{t('col.licenses')}</th>
            <th>purl</th>
            <th>{t('col.findings')}</th>
          </tr>
        </thead>
        <tbody>
          {pkgs.slice((page - 1) * PKG_PAGE, page * PKG_PAGE).map((p) => (
            <tr key={`${p.target}:${p.id}`}>
              <td>{p.name}</td>
              <td>{p.version}</td>
              <td>{p.type}</td>
              <td>{p.licenses.join(', ')}</td>
              <td>
                <code className="small">{p.purl}</code>
              </td>
              <td>
                <PackageFindingsLink name={p.name} imageId={imageId} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="pager">
        <button disabled={page <= 1} onClick={() => setPage(page - 1)}>
          {t('common.prev')}
        </button>
        <span>{t('common.pageOf', { page, pages, total: pkgs.length })}</span>
        <button disabled={page >= pages} onClick={() => setPage(page + 1)}>
          {t('common.next')}
        </button>
      </div>
    </div>
  );
}

/** The package's findings within this image; its advisories across every image are one more click. */
function PackageFindingsLink({ name, imageId }: { name: string; imageId: number }) {
  const { t } = useT();
  return (
    <>
      <Link to={`/images/${imageId}?tab=findings&package=${encodeURIComponent(name)}`}>
        {t('packages.inImage')}
      </Link>
      {' · '}
      <Link to={`/advisories?package=${encodeURIComponent(name)}`}>{t('packages.advisories')}</Link>
    </>
  );
}

/**
 * Layers with their history command, and what each brought: click a layer for the packages and the
 * findings whose file it wrote (from the stored report's locations).
 */
function LayersView({ scanId }: { scanId: number }) {
  const { t } = useT();
  const rep = useResource<ScanReport>(`/api/scans/${scanId}/report`);
  const [open, setOpen] = useState<number | null>(null);
  const layers = rep.data?.artifact.layers ?? [];
  const byLayer = useMemo(() => {
    const m = new Map<
      number,
      {
        packages: { n: number; name: string; version: string; type: string; path: string }[];
        findings: { n: number; id: string; kind: string; severity: Severity; title?: string; what: string }[];
      }
    >();
    const at = (i: number) => {
      let e = m.get(i);
      if (!e) m.set(i, (e = { packages: [], findings: [] }));
      return e;
    };
    for (const r of rep.data?.results ?? []) {
      for (const p of r.packages ?? []) {
        const l = p.locations?.find((x) => x.layerIndex !== undefined);
        if (!l) continue;
        const list = at(l.layerIndex!).packages;
        list.push({
          n: list.length,
          name: p.name,
          version: p.version,
          type: p.type,
          path: l.path,
        });
      }
      for (const f of r.findings ?? []) {
        if (f.location?.layerIndex === undefined) continue;
        const list = at(f.location.layerIndex).findings;
        list.push({
          n: list.length,
          id: f.id,
          kind: f.kind,
          severity: f.severity,
          title: f.title,
          what: f.package ? `${f.package.name} ${f.package.version}` : f.location.path,
        });
      }
    }
    return m;
  }, [rep.data]);
  const detail = open !== null ? byLayer.get(open) : undefined;
  return (
    <div>
      <ErrorBox error={rep.error} />
      <table data-testid="layers-table">
        <thead>
          <tr>
            <th>#</th>
            <th>{t('col.digest')}</th>
            <th>{t('col.size')}</th>
            <th>{t('col.createdBy')}</th>
            <th className="num">{t('image.tab.packages')}</th>
            <th className="num">{t('col.findings')}</th>
          </tr>
        </thead>
        <tbody>
          {layers.map((l) => (
            <tr
              key={l.index}
              className={`clickable${open === l.index ? ' selected' : ''}`}
              onClick={() => setOpen(open === l.index ? null : l.index)}
              data-layer={l.index}
            >
              <td>{l.index}</td>
              <td>
                <code>{shortDigest(l.digest ?? l.diffId ?? '')}</code>
              </td>
              <td className="num">{l.size !== undefined ? fmtSize(l.size) : '—'}</td>
              <td className="title">{l.createdBy ?? '—'}</td>
              <td className="num">{byLayer.get(l.index)?.packages.length ?? 0}</td>
              <td className="num">{byLayer.get(l.index)?.findings.length ?? 0}</td>
            </tr>
          ))}
          {rep.data && layers.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                {t('common.empty')}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {open !== null && (
        <div className="grid2" data-testid="layer-detail">
          <section>
            <h3>
              {t('image.tab.packages')} · #{open}
            </h3>
            <SimpleTable
              rows={detail?.packages ?? []}
              rowKey={(p) => p.n}
              columns={[
                { key: 'name', label: 'col.package', render: (p) => p.name },
                { key: 'version', label: 'col.version', render: (p) => p.version },
                { key: 'type', label: 'col.type', render: (p) => p.type },
              ]}
            />
          </section>
          <section>
            <h3>
              {t('col.findings')} · #{open}
            </h3>
            <SimpleTable
              rows={detail?.findings ?? []}
              rowKey={(f) => f.n}
              columns={[
                { key: 'severity', label: 'col.severity', render: (f) => <SeverityBadge s={f.severity} /> },
                { key: 'kind', label: 'col.kind', render: (f) => t(`kind.${f.kind}` as Key) },
                {
                  key: 'id',
                  label: 'col.id',
                  render: (f) =>
                    f.kind === 'vulnerability' ? (
                      <Link to={`/advisories/${encodeURIComponent(f.id)}`}>{f.id}</Link>
                    ) : (
                      f.id
                    ),
                },
                { key: 'what', label: 'col.package', render: (f) => f.what },
              ]}
            />
          </section>
        </div>
      )}
    </div>
  );
}

interface ScanRow {
  id: number;
  createdAt: string;
  source: string;
  submittedBy: string;
  counts: Counts;
}

interface SignatureCheck {
  kind: 'signature' | 'attestation';
  verified: boolean | null;
  predicateType?: string;
  signer?: string;
  tlog?: { logIndex: number; integratedTime: string };
  source?: string;
  errors: string[];
}
interface ImageSignatures {
  checked: boolean;
  digest?: string;
  checkedAt?: string;
  policy: boolean;
  signed: boolean;
  attested: string[];
  items: SignatureCheck[];
  error?: string;
}

/** "Signed" / "Not signed" beside the image's digest (only once its signatures were read). */
function SignedBadge({ imageId }: { imageId: number }) {
  const { t } = useT();
  const s = useResource<ImageSignatures>(`/api/images/${imageId}/signatures`).data;
  if (!s?.checked) return null;
  const present = s.items.some((i) => i.kind === 'signature');
  const text = s.signed ? t('sig.signed') : present && !s.policy ? t('sig.verified.null') : t('sig.unsigned');
  return (
    <span data-testid="signed-badge" className={`status ${s.signed ? 'status-succeeded' : 'status-failed'}`}>
      {text}
    </span>
  );
}

/** Layer digests shortened (the whole source stays in the title). */
function shortSource(s: string | undefined): string {
  return (s ?? '').replace(/sha256:[0-9a-f]{64}/g, (d) => shortDigest(d));
}

function SignaturesView({ imageId }: { imageId: number }) {
  const { t } = useT();
  const r = useResource<ImageSignatures>(`/api/images/${imageId}/signatures`);
  const s = r.data;
  return (
    <div data-testid="signatures">
      <ErrorBox error={r.error} />
      {s && !s.checked && <p className="muted">{t('sig.notChecked')}</p>}
      {s?.checked && (
        <>
          <p>
            <strong>{s.signed ? t('sig.signed') : t('sig.unsigned')}</strong>
            {s.attested.length > 0 && <> · {t('sig.attested', { types: s.attested.join(', ') })}</>}
            {s.checkedAt && (
              <span className="muted"> · {t('sig.checkedAt', { time: fmtDate(s.checkedAt) })}</span>
            )}
          </p>
          {!s.policy && <p className="muted">{t('sig.unverified')}</p>}
          {s.error && <p className="error">{t('sig.error', { error: s.error })}</p>}
          {s.items.length === 0 ? (
            <p className="muted">{t('sig.none')}</p>
          ) : (
            <SimpleTable
              testId="signatures-table"
              rows={s.items}
              rowKey={(i) => `${i.kind}:${i.source ?? ''}:${i.predicateType ?? ''}`}
              columns={[
                { key: 'kind', label: 'col.kind', render: (i) => t(`sig.kind.${i.kind}` as Key) },
                {
                  key: 'verified',
                  label: 'col.verified',
                  render: (i) => (
                    <span
                      className={
                        i.verified === true
                          ? 'status status-succeeded'
                          : i.verified === false
                            ? 'status status-failed'
                            : 'muted'
                      }
                    >
                      {t(`sig.verified.${String(i.verified)}` as Key)}
                    </span>
                  ),
                },
                { key: 'predicateType', label: 'col.predicateType', render: (i) => i.predicateType ?? '—' },
                { key: 'signer', label: 'col.signer', render: (i) => i.signer ?? '—' },
                {
                  key: 'tlog',
                  label: 'col.tlog',
                  render: (i) => (i.tlog ? `#${i.tlog.logIndex} · ${fmtDate(i.tlog.integratedTime)}` : '—'),
                },
                {
                  key: 'source',
                  label: 'col.source',
                  render: (i) => <code title={i.source}>{shortSource(i.source)}</code>,
                },
                { key: 'errors', label: 'col.problems', render: (i) => i.errors.join('; ') || '—' },
              ]}
            />
          )}
        </>
      )}
    </div>
  );
}

function ScansView({ imageId }: { imageId: number }) {
  const list = useServerList<ScanRow>('/api/scans', { imageId }, { sort: 'createdAt', order: 'desc' });
  return (
    <DataTable
      testId="scans-table"
      list={list}
      rowKey={(r) => r.id}
      columns={[
        { key: 'id', label: 'col.scan', render: (r) => `#${r.id}` },
        { key: 'createdAt', label: 'col.date', sort: 'createdAt', render: (r) => fmtDate(r.createdAt) },
        {
          key: 'source',
          label: 'col.source',
          render: (r) => `${r.source}${r.submittedBy ? ` · ${r.submittedBy}` : ''}`,
        },
        {
          key: 'counts',
          label: 'col.findings',
          render: (r) => (
            <span>
              <span className="sevtext-critical">{r.counts.critical}</span> /{' '}
              <span className="sevtext-high">{r.counts.high}</span> /{' '}
              <span className="sevtext-medium">{r.counts.medium}</span> /{' '}
              <span className="sevtext-low">{r.counts.low}</span>
            </span>
          ),
        },
        { key: 'diff', label: 'scans.changes', render: (r) => <DiffCell scanId={r.id} /> },
        {
          key: 'json',
          label: 'image.reportJson',
          render: (r) => (
            <a href={`/api/scans/${r.id}/report`} download={`scan-${r.id}.json`}>
              JSON
            </a>
          ),
        },
      ]}
    />
  );
}

/** New and fixed findings of a scan against the image's previous scan, loaded on demand. */
function DiffCell({ scanId }: { scanId: number }) {
  const { t } = useT();
  const [diff, setDiff] = useState<{ baseScanId: number | null; new: Finding[]; fixed: Finding[] }>();
  const [error, setError] = useState<unknown>();
  if (error) return <ErrorBox error={error} />;
  if (!diff)
    return (
      <button onClick={() => get<typeof diff>(`/api/scans/${scanId}/diff`).then(setDiff, setError)}>
        {t('scans.compare')}
      </button>
    );
  if (diff.baseScanId === null) return <span className="muted">{t('scans.first')}</span>;
  const ids = (fs: Finding[]) =>
    fs
      .slice(0, 8)
      .map((f) => `${f.advisoryId}${f.pkgName ? ` (${f.pkgName})` : ''}`)
      .join(', ') + (fs.length > 8 ? ' …' : '');
  return (
    <span data-testid={`diff-${scanId}`}>
      {t('scans.diff', { new: diff.new.length, fixed: diff.fixed.length, base: diff.baseScanId })}
      {diff.new.length > 0 && <div className="small">+ {ids(diff.new)}</div>}
      {diff.fixed.length > 0 && <div className="small">− {ids(diff.fixed)}</div>}
    </span>
  );
}

function fmtSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export type { Page };
