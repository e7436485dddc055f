/** Suppressions: reason, owner, expiry; removing one brings its findings back. */
import { useState, type FormEvent } from 'react';
import { del, post, type Me, type Suppression } from '../api';
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
      {me.role !== 'viewer' && <SuppressionForm me={me} onDone={list.reload} />}
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

/** A suppression by advisory id (optionally one package and/or one image), without opening a finding. */
function SuppressionForm({ me, onDone }: { me: Me['user']; onDone: () => void }) {
  const { t } = useT();
  const empty = { advisoryId: '', pkgName: '', imageName: '', reason: '', owner: me.username, expires: '' };
  const [f, setF] = useState(empty);
  const [error, setError] = useState<unknown>();
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) =>
    setF({ ...f, [k]: e.target.value });
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      const { expires, ...rest } = f;
      await post('/api/suppressions', {
        ...rest,
        expiresAt: expires ? new Date(`${expires}T23:59:59Z`).toISOString() : null,
      });
      setF(empty);
      onDone();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <form className="panel inline" onSubmit={submit} data-testid="suppression-form">
      <input
        placeholder={t('col.advisory')}
        value={f.advisoryId}
        onChange={set('advisoryId')}
        required
        aria-label={t('col.advisory')}
      />
      <input
        placeholder={t('suppressions.anyPackage')}
        value={f.pkgName}
        onChange={set('pkgName')}
        aria-label={t('col.package')}
      />
      <input
        placeholder={t('suppressions.anyImage')}
        value={f.imageName}
        onChange={set('imageName')}
        aria-label={t('col.image')}
      />
      <input
        placeholder={t('col.reason')}
        value={f.reason}
        onChange={set('reason')}
        required
        aria-label={t('col.reason')}
      />
      <input
        placeholder={t('col.owner')}
        value={f.owner}
        onChange={set('owner')}
        required
        aria-label={t('col.owner')}
      />
      <input type="date" value={f.expires} onChange={set('expires')} aria-label={t('col.expires')} />
      <button type="submit" className="primary">
        {t('suppressions.add')}
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
