/** Users and roles (admin). */
import { useState, type FormEvent } from 'react';
import { del, patch, post, ROLES, type Role, type User } from '../api';
import { ErrorBox, fmtDate, SimpleTable, useResource } from '../components';
import { useT, type Key } from '../i18n';

export function UsersPage() {
  const { t } = useT();
  const users = useResource<{ items: User[] }>('/api/users');
  const [error, setError] = useState<unknown>();
  const [f, setF] = useState({ username: '', password: '', role: 'viewer' as Role });
  const act = async (p: Promise<unknown>) => {
    setError(undefined);
    try {
      await p;
      users.reload();
    } catch (e) {
      setError(e);
    }
  };
  async function submit(e: FormEvent) {
    e.preventDefault();
    await act(post('/api/users', f));
    setF({ username: '', password: '', role: 'viewer' });
  }
  return (
    <div>
      <h1>{t('nav.users')}</h1>
      <ErrorBox error={error ?? users.error} />
      <form className="panel inline" onSubmit={submit}>
        <input
          placeholder={t('auth.username')}
          value={f.username}
          onChange={(e) => setF({ ...f, username: e.target.value })}
          required
          aria-label={t('auth.username')}
        />
        <input
          type="password"
          placeholder={t('auth.password')}
          value={f.password}
          onChange={(e) => setF({ ...f, password: e.target.value })}
          required
          autoComplete="new-password"
          aria-label={t('auth.password')}
        />
        <select
          value={f.role}
          onChange={(e) => setF({ ...f, role: e.target.value as Role })}
          aria-label={t('col.role')}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`role.${r}` as Key)}
            </option>
          ))}
        </select>
        <button type="submit" className="primary">
          {t('users.add')}
        </button>
      </form>
      <SimpleTable
        testId="users-table"
        rows={users.data?.items}
        rowKey={(u) => u.id}
        columns={[
          { key: 'name', label: 'auth.username', render: (u) => u.username },
          {
            key: 'role',
            label: 'col.role',
            render: (u) => (
              <select
                value={u.role}
                onChange={(e) => act(patch(`/api/users/${u.id}`, { role: e.target.value }))}
                aria-label={t('col.role')}
              >
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {t(`role.${r}` as Key)}
                  </option>
                ))}
              </select>
            ),
          },
          {
            key: 'status',
            label: 'col.status',
            render: (u) => (u.disabled ? t('common.disabled') : t('common.enabled')),
          },
          { key: 'created', label: 'col.created', render: (u) => fmtDate(u.createdAt) },
          {
            key: 'act',
            label: 'col.actions',
            render: (u) => (
              <span className="row">
                <button onClick={() => act(patch(`/api/users/${u.id}`, { disabled: !u.disabled }))}>
                  {u.disabled ? t('users.enable') : t('users.disable')}
                </button>
                <button
                  onClick={() =>
                    confirm(t('users.confirmDelete', { name: u.username })) && act(del(`/api/users/${u.id}`))
                  }
                >
                  {t('common.delete')}
                </button>
              </span>
            ),
          },
        ]}
      />
    </div>
  );
}
