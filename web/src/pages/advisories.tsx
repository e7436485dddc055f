/** Advisories across all images (by-advisory view) and the advisory page (which images are affected). */
import { useState } from 'react';
import { SEVERITIES, type AdvisoryDetail, type AdvisoryRow, type Finding, type Page } from '../api';
import { DataTable, ErrorBox, fmtDate, Link, SeverityBadge, useResource, useServerList } from '../components';
import { useT, type Key } from '../i18n';
import { useLocation } from '../router';

export function AdvisoriesPage() {
  const { t } = useT();
  const { query } = useLocation();
  const [severity, setSeverity] = useState(query.get('severity') ?? '');
  const [fixable, setFixable] = useState(query.get('fixable') ?? '');
  const [pkg, setPkg] = useState(query.get('package') ?? '');
  const [kind, setKind] = useState(query.get('kind') ?? '');
  const [q, setQ] = useState('');
  const list = useServerList<AdvisoryRow>(
    '/api/findings/by-advisory',
    { severity, fixable, package: pkg, kind, q },
    { sort: 'severity', order: 'desc' },
  );
  return (
    <div>
      <h1>{t('nav.advisories')}</h1>
      <div className="filters">
        <select value={severity} onChange={(e) => setSeverity(e.target.value)} aria-label={t('col.severity')}>
          <option value="">{t('findings.allSeverities')}</option>
          {SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {t(`sev.${s}` as Key)}
            </option>
          ))}
        </select>
        <select value={kind} onChange={(e) => setKind(e.target.value)} aria-label={t('col.kind')}>
          <option value="">{t('findings.allKinds')}</option>
          {(['vulnerability', 'secret', 'misconfig', 'license', 'malware'] as const).map((k) => (
            <option key={k} value={k}>
              {t(`kind.${k}`)}
            </option>
          ))}
        </select>
        <select
          value={fixable}
          onChange={(e) => setFixable(e.target.value)}
          aria-label={t('findings.fixability')}
        >
          <option value="">{t('findings.fixAny')}</option>
          <option value="true">{t('findings.fixable')}</option>
          <option value="false">{t('findings.notFixable')}</option>
        </select>
        <input
          placeholder={t('col.package')}
          value={pkg}
          onChange={(e) => setPkg(e.target.value)}
          aria-label={t('col.package')}
        />
        <input
          placeholder={t('findings.search')}
          value={q}
          onChange={(e) => setQ(e.target.value)}
          aria-label={t('findings.search')}
        />
      </div>
      <DataTable
        testId="advisories-table"
        list={list}
        rowKey={(r) => r.advisoryId}
        columns={[
          {
            key: 'sev',
            label: 'col.severity',
            sort: 'severity',
            render: (r) => <SeverityBadge s={r.maxSeverity} />,
          },
          {
            key: 'id',
            label: 'col.advisory',
            sort: 'name',
            render: (r) => <Link to={`/advisories/${encodeURIComponent(r.advisoryId)}`}>{r.advisoryId}</Link>,
          },
          { key: 'title', label: 'col.title', className: 'title', render: (r) => r.title },
          { key: 'images', label: 'col.images', sort: 'images', className: 'num', render: (r) => r.images },
          {
            key: 'findings',
            label: 'col.findings',
            sort: 'findings',
            className: 'num',
            render: (r) => r.findings,
          },
          { key: 'fixable', label: 'findings.fixable', className: 'num', render: (r) => r.fixable },
        ]}
      />
    </div>
  );
}

export function AdvisoryPage({ id }: { id: string }) {
  const { t } = useT();
  const head = useResource<Page<AdvisoryRow>>(
    `/api/findings/by-advisory?advisory=${encodeURIComponent(id)}&suppressed=include`,
  );
  const list = useServerList<Finding>(
    '/api/findings',
    { advisory: id, suppressed: 'include' },
    { sort: 'image', order: 'asc' },
  );
  const a = head.data?.items[0];
  // the advisory's own record (description, CVSS, references, fixes), when the console has the DB
  const detail = useResource<AdvisoryDetail>(`/api/advisories/${encodeURIComponent(id)}`);
  return (
    <div>
      <h1>{id}</h1>
      <ErrorBox error={head.error} />
      {a && (
        <div className="meta">
          <SeverityBadge s={a.maxSeverity} />
          <span>{a.title}</span>
          <span>{t('advisory.affected', { images: a.images, findings: a.findings })}</span>
        </div>
      )}
      {head.data && !a && <p className="muted">{t('advisory.none')}</p>}
      {detail.data && (
        <section data-testid="advisory-detail">
          {detail.data.summary && <h2>{detail.data.summary}</h2>}
          <dl className="meta">
            {detail.data.aliases.length > 0 && (
              <>
                <dt>{t('advisory.aliases')}</dt>
                <dd>{detail.data.aliases.join(', ')}</dd>
              </>
            )}
            {detail.data.published && (
              <>
                <dt>{t('advisory.published')}</dt>
                <dd>{fmtDate(detail.data.published)}</dd>
              </>
            )}
            <dt>{t('advisory.modified')}</dt>
            <dd>{fmtDate(detail.data.modified)}</dd>
          </dl>
          {detail.data.cvss.length > 0 && (
            <table data-testid="advisory-cvss">
              <thead>
                <tr>
                  <th>{t('advisory.cvss')}</th>
                  <th>vector</th>
                  <th className="num">score</th>
                </tr>
              </thead>
              <tbody>
                {detail.data.cvss.map((c) => (
                  <tr key={c.vector}>
                    <td>{c.version}</td>
                    <td>
                      <code className="small">{c.vector}</code>
                    </td>
                    <td className="num">{c.score.toFixed(1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {detail.data.details && (
            <>
              <h3>{t('advisory.details')}</h3>
              <pre className="details">{detail.data.details}</pre>
            </>
          )}
          {detail.data.affected.length > 0 && (
            <>
              <h3>{t('advisory.fixedVersions')}</h3>
              <ul data-testid="advisory-affected">
                {detail.data.affected.map((x, i) => (
                  <li key={i}>
                    {x.ecosystem} {x.name}: {x.fixed.length ? x.fixed.join(', ') : t('common.noFix')}
                  </li>
                ))}
              </ul>
            </>
          )}
          {detail.data.references.length > 0 && (
            <>
              <h3>{t('advisory.references')}</h3>
              <ul data-testid="advisory-references">
                {detail.data.references.map((r) => (
                  <li key={r.url}>
                    <a href={r.url} target="_blank" rel="noopener noreferrer">
                      {r.url}
                    </a>
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      )}
      <h2>{t('advisory.images')}</h2>
      <DataTable
        testId="affected-table"
        list={list}
        rowKey={(r) => r.id}
        columns={[
          {
            key: 'image',
            label: 'col.image',
            sort: 'image',
            render: (r) => <Link to={`/images/${r.imageId}`}>{r.imageName}</Link>,
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
          { key: 'sev', label: 'col.severity', render: (r) => <SeverityBadge s={r.severity} /> },
          {
            key: 'supp',
            label: 'col.status',
            render: (r) => (r.suppressed ? t('findings.suppressed') : t('findings.open')),
          },
        ]}
      />
    </div>
  );
}
