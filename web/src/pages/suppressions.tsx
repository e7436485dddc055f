/** Suppressions: reason, owner, expiry; removing one brings its findings back. */
import { useState } from 'react';
import { del, type Me, type Suppression } from '../api';
import { ErrorBox, fmtDate, Link, SimpleTable, useResource } from '../components';
import { useT } from '../i18n';

export function SuppressionsPage({ me }: { me: Me['user'] }) {
  const { t } = useT();
  const list = useResource<{ items: Suppression[] }>('/api/suppressions');
  const [error, setError] = useState<unknown>();
  async function remove(s: Suppression) {
    setError(undefined);
    try {
      await del(`/api/suppressions/${s.id}`);
      list.reload();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <div>
      <h1>{t('nav.suppressions')}</h1>
      <p className="muted">{t('suppressions.help')}</p>
      <ErrorBox error={error ?? list.error} />
      <SimpleTable
        testId="suppressions-table"
        rows={list.data?.items}
        rowKey={(s) => s.id}
        columns={[
          {
            key: 'adv',
            label: 'col.advisory',
            render: (s) => <Link to={`/advisories/${encodeURIComponent(s.advisoryId)}`}>{s.advisoryId}</Link>,
          },
          { key: 'pkg', label: 'col.package', render: (s) => s.pkgName || t('common.all') },
          { key: 'img', label: 'col.image', render: (s) => s.imageName || t('common.all') },
          { key: 'reason', label: 'col.reason', className: 'title', render: (s) => s.reason },
          { key: 'owner', label: 'col.owner', render: (s) => s.owner },
          {
            key: 'exp',
            label: 'col.expires',
            render: (s) => (s.expiresAt ? fmtDate(s.expiresAt) : t('suppressions.never')),
          },
          {
            key: 'active',
            label: 'col.status',
            render: (s) => (s.active ? t('suppressions.active') : t('suppressions.expired')),
          },
          {
            key: 'by',
            label: 'suppressions.createdBy',
            render: (s) => `${s.createdBy} · ${fmtDate(s.createdAt)}`,
          },
          {
            key: 'act',
            label: 'col.actions',
            render: (s) =>
              me.role !== 'viewer' && <button onClick={() => remove(s)}>{t('common.delete')}</button>,
          },
        ]}
      />
    </div>
  );
}
