/** Audit log (admin): every state change, filtered by actor and action on the server. */
import { useState } from 'react';
import type { AuditEntry } from '../api';
import { DataTable, fmtDate, useServerList } from '../components';
import { useT } from '../i18n';

export function AuditPage() {
  const { t } = useT();
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
          { key: 'action', label: 'audit.action', render: (r) => <code>{r.action}</code> },
          { key: 'target', label: 'col.target', render: (r) => r.target },
          {
            key: 'detail',
            label: 'audit.detail',
            className: 'title',
            render: (r) => (r.detail ? <code className="small">{JSON.stringify(r.detail)}</code> : ''),
          },
        ]}
      />
    </div>
  );
}
