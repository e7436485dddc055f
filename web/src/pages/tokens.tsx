/** API tokens for CI (`bulwark scan ... --server URL --token T`): created here, shown once. */
import { useState, type FormEvent } from 'react';
import { del, post, ROLES, type Me, type Role } from '../api';
import { ErrorBox, fmtDate, SimpleTable, useResource } from '../components';
import { useT, type Key } from '../i18n';

interface ApiToken {
  id: number;
  name: string;
  prefix: string;
  role: Role;
  userId: number;
  username: string;
  createdAt: string;
  lastUsedAt: string | null;
  cluster: string;
}

export function TokensPage({ me }: { me: Me['user'] }) {
  const { t } = useT();
  const list = useResource<{ items: ApiToken[] }>('/api/tokens');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>(me.role === 'viewer' ? 'viewer' : 'operator');
  const [cluster, setCluster] = useState('');
  const [created, setCreated] = useState<string>('');
  const [error, setError] = useState<unknown>();
  // A token's role is at most its owner's.
  const roles = ROLES.slice(0, ROLES.indexOf(me.role) + 1);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      const r = await post<{ token: string }>('/api/tokens', { name, role, ...(cluster ? { cluster } : {}) });
      setCreated(r.token);
      setName('');
      list.reload();
    } catch (err) {
      setError(err);
    }
  }
  async function revoke(tok: ApiToken) {
    setError(undefined);
    try {
      await del(`/api/tokens/${tok.id}`);
      list.reload();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <div>
      <h1>{t('nav.tokens')}</h1>
      <p className="muted">{t('tokens.help')}</p>
      <ErrorBox error={error ?? list.error} />
      <form className="panel inline" onSubmit={submit}>
        <input
          placeholder={t('col.name')}
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          aria-label={t('col.name')}
        />
        <select value={role} onChange={(e) => setRole(e.target.value as Role)} aria-label={t('col.role')}>
          {roles.map((r) => (
            <option key={r} value={r}>
              {t(`role.${r}` as Key)}
            </option>
          ))}
        </select>
        <input
          placeholder={t('tokens.cluster')}
          value={cluster}
          onChange={(e) => setCluster(e.target.value)}
          aria-label={t('tokens.cluster')}
          title={t('tokens.clusterHelp')}
        />
        <button type="submit" className="primary">
          {t('tokens.create')}
        </button>
      </form>
      {created && (
        <div className="info" data-testid="new-token">
          {t('tokens.shownOnce')} <code>{created}</code>
        </div>
      )}
      <SimpleTable
        rows={list.data?.items}
        rowKey={(r) => r.id}
        columns={[
          { key: 'name', label: 'col.name', render: (r) => r.name },
          { key: 'prefix', label: 'tokens.prefix', render: (r) => <code>{r.prefix}…</code> },
          { key: 'role', label: 'col.role', render: (r) => t(`role.${r.role}` as Key) },
          { key: 'cluster', label: 'tokens.cluster', render: (r) => r.cluster || '—' },
          { key: 'user', label: 'auth.username', render: (r) => r.username },
          { key: 'created', label: 'col.created', render: (r) => fmtDate(r.createdAt) },
          { key: 'used', label: 'tokens.lastUsed', render: (r) => fmtDate(r.lastUsedAt) },
          {
            key: 'act',
            label: 'col.actions',
            render: (r) => <button onClick={() => revoke(r)}>{t('tokens.revoke')}</button>,
          },
        ]}
      />
    </div>
  );
}
