/** Dashboard: counts by severity, trend, top risky images, fixable criticals. */
import type { Summary } from '../api';
import { ErrorBox, Link, SeverityBadge, TrendChart, TrendLegend, useResource } from '../components';
import { useT } from '../i18n';

export function DashboardPage() {
  const { t } = useT();
  const { data, error } = useResource<Summary>('/api/summary?days=30');
  return (
    <div>
      <h1>{t('nav.dashboard')}</h1>
      <ErrorBox error={error} />
      {data && (
        <>
          <div className="cards" data-testid="severity-cards">
            <div className="card">
              <div className="big">{data.images}</div>
              <div>{t('dash.images')}</div>
            </div>
            {(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const).map((s) => (
              <div className={`card card-${s.toLowerCase()}`} key={s}>
                <div className="big">{data.bySeverity[s.toLowerCase() as keyof Summary['bySeverity']]}</div>
                <SeverityBadge s={s} />
              </div>
            ))}
            <div className="card card-critical">
              <div className="big">
                <Link to="/advisories?severity=CRITICAL&fixable=true">{data.fixableCritical}</Link>
              </div>
              <div>{t('dash.fixableCritical')}</div>
            </div>
          </div>
          <section>
            <h2>{t('dash.byKind')}</h2>
            <table data-testid="by-kind">
              <thead>
                <tr>
                  <th>{t('col.kind')}</th>
                  {(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const).map((s) => (
                    <th className="num" key={s}>
                      {t(`sev.${s}`)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {(Object.keys(data.byKind) as (keyof Summary['byKind'])[])
                  .filter((k) => Object.values(data.byKind[k]).some((n) => n > 0))
                  .map((k) => (
                    <tr key={k} data-kind={k}>
                      <td>
                        <Link to={`/advisories?kind=${k}`}>{t(`kind.${k}`)}</Link>
                      </td>
                      {(['critical', 'high', 'medium', 'low', 'unknown'] as const).map((s) => (
                        <td className={`num sevtext-${s}`} key={s}>
                          {data.byKind[k][s]}
                        </td>
                      ))}
                    </tr>
                  ))}
              </tbody>
            </table>
          </section>
          <div className="grid2">
            <section>
              <h2>{t('dash.trend')}</h2>
              <TrendChart points={data.trend} />
              <TrendLegend />
            </section>
            <section>
              <h2>{t('dash.topImages')}</h2>
              <table>
                <thead>
                  <tr>
                    <th>{t('col.image')}</th>
                    <th className="num">{t('sev.CRITICAL')}</th>
                    <th className="num">{t('sev.HIGH')}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.topImages.map((i) => (
                    <tr key={i.id}>
                      <td>
                        <Link to={`/images/${i.id}`}>{i.name}</Link>
                      </td>
                      <td className="num sevtext-critical">{i.critical}</td>
                      <td className="num sevtext-high">{i.high}</td>
                    </tr>
                  ))}
                  {data.topImages.length === 0 && (
                    <tr>
                      <td colSpan={3} className="empty">
                        {t('common.empty')}
                      </td>
                    </tr>
                  )}
                </tbody>
              </table>
            </section>
          </div>
        </>
      )}
    </div>
  );
}
