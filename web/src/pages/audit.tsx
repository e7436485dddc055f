/** Audit log (admin): every state change, filtered by actor and action on the server. */
import { useState } from 'react';
import type { AuditEntry } from '../api';
import { DataTable, fmtDate, useServerList } from '../components';
import { DICTS, serverText, useT, type Key } from '../i18n';

export function AuditPage() {
  const { t, lang } = useT();
  const known = (k: string): k is Key => k in DICTS.en;
  const actionText = (a: string) => (known(`audit.act.${a}`) ? t(`audit.act.${a}` as Key) : a);
  const detailText = (d: Record<string, unknown>) =>
    Object.entries(d)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => {
        const name = known(`audit.field.${k}`) ? t(`audit.field.${k}` as Key) : k;
        const value = typeof v === 'string' ? serverText(lang, v) : JSON.stringify(v);
        return `${name}: ${value}`;
      })
      .join(', ');
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const list = useServerList<AuditEntry>('/api/audit', { actor, action }, { sort: 'at', order: 'desc' });
  return (
    <div>
      <h1>{t('nav.audit')}</h1>
      <div className="filters">
        <input
          placeholder={t('audit.actor')}
          value={actor}
          onChange={(e) => setActor(e.target.value)}
          aria-label={t('audit.actor')}
        />
        <input
          placeholder={t('audit.action')}
          value={action}
          onChange={(e) => setAction(e.target.value)}
          aria-label={t('audit.action')}
        />
      </div>
      <DataTable
        testId="audit-table"
        list={list}
        rowKey={(r) => r.id}
        columns={[
          { key: 'at', label: 'col.date', sort: 'at', render: (r) => fmtDate(r.at) },
          { key: 'actor', label: 'audit.actor', render: (r) => r.actor },
          {
            key: 'action',
            label: 'audit.action',
            render: (r) => (
              <span title={r.action}>
                {actionText(r.action)} <code className="small">{r.action}</code>
              </span>
            ),
          },
          { key: 'target', label: 'col.target', render: (r) => r.target },
          {
            key: 'detail',
            label: 'audit.detail',
            className: 'title',
            render: (r) =>
              r.detail ? (
                <span className="small" title={JSON.stringify(r.detail)}>
                  {detailText(r.detail)}
                </span>
              ) : (
                ''
              ),
          },
        ]}
      />
    </div>
  );
}
