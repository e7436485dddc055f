/** Registries: add (URL, credentials, CA, repositories, tag filter, schedule), trigger scans, job progress. */
import { useEffect, useState, type FormEvent } from 'react';
import { del, patch, post, type Job, type Me, type Registry } from '../api';
import { DataTable, ErrorBox, fmtDate, SimpleTable, useResource, useServerList } from '../components';
import { serverText, useT, type Key } from '../i18n';

export function RegistriesPage({ me }: { me: Me['user'] }) {
  const { t, lang } = useT();
  const regs = useResource<{ items: Registry[] }>('/api/registries');
  const [error, setError] = useState<unknown>();
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Registry | null>(null);
  const jobs = useServerList<Job>('/api/jobs', {}, { sort: 'id', order: 'desc' }, 10);
  const active = jobs.data?.items.some((j) => j.status === 'queued' || j.status === 'running');
  // Poll so progress is visible: fast while jobs run, slowly otherwise (scheduled scans, DB-change rescans).
  useEffect(() => {
    const h = setInterval(jobs.reload, active ? 1500 : 5000);
    return () => clearInterval(h);
  }, [active, jobs.reload]);

  async function scan(r: Registry) {
    setError(undefined);
    try {
      await post(`/api/registries/${r.id}/scan`);
      jobs.reload();
    } catch (e) {
      setError(e);
    }
  }
  async function remove(r: Registry) {
    if (!confirm(t('registries.confirmDelete', { name: r.name }))) return;
    try {
      await del(`/api/registries/${r.id}`);
      regs.reload();
    } catch (e) {
      setError(e);
    }
  }
  return (
    <div>
      <h1>{t('nav.registries')}</h1>
      <ErrorBox error={error ?? regs.error} />
      {me.role === 'admin' && !adding && (
        <button className="primary" onClick={() => setAdding(true)}>
          {t('registries.add')}
        </button>
      )}
      {(adding || editing) && (
        <RegistryForm
          key={editing?.id ?? 'new'}
          existing={editing ?? undefined}
          onCancel={() => (setAdding(false), setEditing(null))}
          onDone={() => {
            setAdding(false);
            setEditing(null);
            regs.reload();
          }}
        />
      )}
      <SimpleTable
        testId="registries-table"
        rows={regs.data?.items}
        rowKey={(r) => r.id}
        columns={[
          { key: 'name', label: 'col.name', render: (r) => r.name },
          { key: 'url', label: 'col.url', render: (r) => <code>{r.url}</code> },
          { key: 'user', label: 'auth.username', render: (r) => r.username || '—' },
          {
            key: 'repos',
            label: 'registries.repositories',
            render: (r) => r.repositories.join(', ') || t('registries.allRepos'),
          },
          {
            key: 'tags',
            label: 'registries.tagFilter',
            render: (r) => (r.tagFilter ? <code>{r.tagFilter}</code> : t('registries.allTags')),
          },
          {
            key: 'sched',
            label: 'registries.schedule',
            render: (r) =>
              r.scheduleMinutes ? t('registries.everyMin', { n: r.scheduleMinutes }) : t('registries.manual'),
          },
          {
            key: 'act',
            label: 'col.actions',
            render: (r) => (
              <span className="row">
                {me.role !== 'viewer' && (
                  <button data-testid={`scan-registry-${r.name}`} onClick={() => scan(r)}>
                    {t('registries.scanNow')}
                  </button>
                )}
                {me.role === 'admin' && (
                  <button onClick={() => (setAdding(false), setEditing(r))}>{t('common.edit')}</button>
                )}
                {me.role === 'admin' && <button onClick={() => remove(r)}>{t('common.delete')}</button>}
              </span>
            ),
          },
        ]}
      />
      <h2>{t('registries.jobs')}</h2>
      <DataTable
        testId="jobs-table"
        list={jobs}
        rowKey={(j) => j.id}
        columns={[
          { key: 'id', label: 'col.id', sort: 'id', render: (j) => `#${j.id}` },
          { key: 'type', label: 'col.type', render: (j) => t(`job.${j.type}` as Key) },
          { key: 'target', label: 'col.target', render: (j) => jobTarget(j) },
          {
            key: 'status',
            label: 'col.status',
            render: (j) => (
              <span className={`status status-${j.status}`}>{t(`job.status.${j.status}` as Key)}</span>
            ),
          },
          {
            key: 'progress',
            label: 'col.progress',
            render: (j) => (
              <span className="progress" title={`${j.progress}%`}>
                <span style={{ width: `${j.progress}%` }} />
              </span>
            ),
          },
          {
            key: 'attempts',
            label: 'col.attempts',
            className: 'num',
            render: (j) => `${j.attempts}/${j.maxAttempts}`,
          },
          {
            key: 'message',
            label: 'col.message',
            className: 'title',
            render: (j) => serverText(lang, j.message),
          },
          { key: 'updated', label: 'col.updated', render: (j) => fmtDate(j.updatedAt) },
        ]}
      />
    </div>
  );
}

function jobTarget(j: Job): string {
  const p = j.payload as { repository?: string; tag?: string; registryId?: number; reason?: string };
  if (p.repository) return `${p.repository}${p.tag ? `:${p.tag}` : ''}`;
  if (p.registryId !== undefined) return `registry #${p.registryId}${p.reason ? ` (${p.reason})` : ''}`;
  return '';
}

/** Add a registry, or change one (`existing`): a blank password keeps the stored one. */
function RegistryForm({
  existing,
  onCancel,
  onDone,
}: {
  existing?: Registry;
  onCancel: () => void;
  onDone: () => void;
}) {
  const { t } = useT();
  const [f, setF] = useState({
    name: existing?.name ?? '',
    url: existing?.url ?? '',
    username: existing?.username ?? '',
    password: '',
    caCert: existing?.caCert ?? '',
    insecure: existing?.insecure ?? false,
    repositories: existing?.repositories.join(', ') ?? '',
    tagFilter: existing?.tagFilter ?? '',
    scheduleMinutes: existing?.scheduleMinutes ?? 0,
  });
  const [error, setError] = useState<unknown>();
  const set = (k: keyof typeof f) => (e: { target: { value: string; checked?: boolean; type?: string } }) =>
    setF({
      ...f,
      [k]:
        e.target.type === 'checkbox'
          ? Boolean(e.target.checked)
          : k === 'scheduleMinutes'
            ? Number(e.target.value)
            : e.target.value,
    });
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      const { password, ...rest } = f;
      const body = {
        ...rest,
        ...(password || !existing ? { password } : {}),
        repositories: f.repositories
          .split(/[\s,]+/)
          .map((s) => s.trim())
          .filter(Boolean),
      };
      if (existing) await patch(`/api/registries/${existing.id}`, body);
      else await post('/api/registries', body);
      onDone();
    } catch (err) {
      setError(err);
    }
  }
  const field = (k: keyof typeof f, label: Key, props: Record<string, unknown> = {}) => (
    <label>
      {t(label)}
      <input name={k} value={String(f[k])} onChange={set(k)} {...props} />
    </label>
  );
  return (
    <form className="panel" onSubmit={submit} data-testid="registry-form">
      <h3>{existing ? t('registries.edit', { name: existing.name }) : t('registries.add')}</h3>
      <div className="formgrid">
        {field('name', 'col.name', { required: true })}
        {field('url', 'col.url', { required: true, placeholder: 'https://registry.example.com' })}
        {field('username', 'auth.username', { autoComplete: 'off' })}
        {field('password', 'auth.password', { type: 'password', autoComplete: 'new-password' })}
        {field('repositories', 'registries.repositories', { placeholder: t('registries.reposHelp') })}
        {field('tagFilter', 'registries.tagFilter', { placeholder: '^v?[0-9]' })}
        {field('scheduleMinutes', 'registries.scheduleMinutes', { type: 'number', min: 0 })}
        <label className="check">
          <input type="checkbox" name="insecure" checked={f.insecure} onChange={set('insecure')} />
          {t('registries.insecure')}
        </label>
      </div>
      <label>
        {t('registries.caCert')}
        <textarea
          name="caCert"
          rows={4}
          value={f.caCert}
          onChange={set('caCert')}
          placeholder="-----BEGIN CERTIFICATE-----"
        />
      </label>
      <ErrorBox error={error} />
      <div className="row">
        <button type="submit" className="primary">
          {t('common.save')}
        </button>
        <button type="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}
