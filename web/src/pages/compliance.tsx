/** Compliance: a framework's controls rated on the open misconfiguration findings (framework → controls → failing resources). */
import { Fragment, useState } from 'react';
import { ErrorBox, SeverityBadge, useResource } from '../components';
import { useT, type Key } from '../i18n';
import { useLocation } from '../router';

interface Control {
  id: string;
  title: string;
  status: 'pass' | 'fail' | 'manual';
  severity?: string;
  failures: { id: string; title: string; severity: string; location: { path: string } }[];
}
interface Report {
  framework: { id: string; title: string };
  summary: { total: number; pass: number; fail: number; manual: number };
  controls: Control[];
}

export function CompliancePage() {
  const { t } = useT();
  const { query } = useLocation();
  const list = useResource<{ items: { id: string; title: string }[] }>('/api/compliance');
  const [fw, setFw] = useState(query.get('framework') ?? 'cis-k8s');
  const rep = useResource<Report>(`/api/compliance/${encodeURIComponent(fw)}`);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <div>
      <h1>{t('nav.compliance')}</h1>
      <ErrorBox error={list.error ?? rep.error} />
      <div className="filters">
        <select value={fw} onChange={(e) => setFw(e.target.value)} aria-label={t('compliance.framework')}>
          {(list.data?.items ?? []).map((f) => (
            <option key={f.id} value={f.id}>
              {f.title}
            </option>
          ))}
        </select>
        <a
          href={`/api/compliance/${encodeURIComponent(fw)}?format=html`}
          target="_blank"
          rel="noopener noreferrer"
        >
          {t('compliance.html')}
        </a>
      </div>
      {rep.data && (
        <>
          <p data-testid="compliance-summary">{t('compliance.summary', rep.data.summary)}</p>
          <p className="muted">{t('compliance.note')}</p>
          <table data-testid="compliance-table">
            <thead>
              <tr>
                <th>{t('compliance.control')}</th>
                <th>{t('col.title')}</th>
                <th>{t('col.status')}</th>
                <th className="num">{t('compliance.failing')}</th>
              </tr>
            </thead>
            <tbody>
              {rep.data.controls.map((c) => (
                <Fragment key={c.id}>
                  <tr
                    data-control={c.id}
                    className={c.failures.length ? 'clickable' : ''}
                    onClick={() => c.failures.length && setOpen(open === c.id ? null : c.id)}
                  >
                    <td>{c.id}</td>
                    <td>{c.title}</td>
                    <td className={`status-${c.status}`}>
                      {t(`compliance.status.${c.status}` as Key)}{' '}
                      {c.severity && <SeverityBadge s={c.severity} />}
                    </td>
                    <td className="num">{c.failures.length}</td>
                  </tr>
                  {open === c.id && (
                    <tr>
                      <td colSpan={4}>
                        <ul data-testid="control-failures">
                          {c.failures.map((f, i) => (
                            <li key={i}>
                              <SeverityBadge s={f.severity} /> {f.id} · {f.location.path} · {f.title}
                            </li>
                          ))}
                        </ul>
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
