/** Notifications: destinations (syslog, webhook, Slack), rules (event, severity, registry) and the dead-letter list. */
import { useState, type FormEvent } from 'react';
import { del, post, SEVERITIES, type Delivery, type Destination, type Me, type Rule } from '../api';
import { DataTable, ErrorBox, fmtDate, SimpleTable, useResource, useServerList } from '../components';
import { useT, type Key } from '../i18n';

const EVENTS = ['new-finding', 'scan-completed', 'scan-failed', 'runtime-alert', 'test'] as const;

export function NotificationsPage({ me }: { me: Me['user'] }) {
  const { t } = useT();
  const dests = useResource<{ items: Destination[] }>('/api/notifications/destinations');
  const rules = useResource<{ items: Rule[] }>('/api/notifications/rules');
  const dead = useServerList<Delivery>(
    '/api/notifications/deliveries',
    { status: 'dead' },
    { sort: 'id', order: 'desc' },
    10,
  );
  const [error, setError] = useState<unknown>();
  const [info, setInfo] = useState('');
  const admin = me.role === 'admin';
  const destName = (id: number) => dests.data?.items.find((d) => d.id === id)?.name ?? `#${id}`;
  const act = async (f: () => Promise<unknown>, done: () => void, msg = '') => {
    setError(undefined);
    setInfo('');
    try {
      await f();
      done();
      setInfo(msg);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div>
      <h1>{t('nav.notifications')}</h1>
      <ErrorBox error={error ?? dests.error ?? rules.error} />
      {info && <div className="info">{info}</div>}
      <h2>{t('notify.destinations')}</h2>
      {admin && <DestinationForm onDone={dests.reload} />}
      <SimpleTable
        rows={dests.data?.items}
        rowKey={(d) => d.id}
        columns={[
          { key: 'name', label: 'col.name', render: (d) => d.name },
          { key: 'type', label: 'col.type', render: (d) => t(`notify.type.${d.type}` as Key) },
          {
            key: 'cfg',
            label: 'notify.config',
            className: 'title',
            render: (d) => <code className="small">{describeConfig(d)}</code>,
          },
          {
            key: 'act',
            label: 'col.actions',
            render: (d) =>
              admin && (
                <span className="row">
                  <button
                    onClick={() =>
                      act(
                        () => post(`/api/notifications/destinations/${d.id}/test`),
                        () => undefined,
                        t('notify.testSent'),
                      )
                    }
                  >
                    {t('notify.test')}
                  </button>
                  <button
                    onClick={() => act(() => del(`/api/notifications/destinations/${d.id}`), dests.reload)}
                  >
                    {t('common.delete')}
                  </button>
                </span>
              ),
          },
        ]}
      />
      <h2>{t('notify.rules')}</h2>
      {admin && dests.data && dests.data.items.length > 0 && (
        <RuleForm dests={dests.data.items} onDone={rules.reload} />
      )}
      <SimpleTable
        rows={rules.data?.items}
        rowKey={(r) => r.id}
        columns={[
          { key: 'name', label: 'col.name', render: (r) => r.name },
          { key: 'event', label: 'notify.event', render: (r) => t(`event.${r.event}` as Key) },
          { key: 'sev', label: 'notify.minSeverity', render: (r) => t(`sev.${r.minSeverity}` as Key) },
          { key: 'reg', label: 'notify.registryFilter', render: (r) => r.registryFilter || t('common.all') },
          { key: 'dest', label: 'notify.destination', render: (r) => destName(r.destinationId) },
          {
            key: 'en',
            label: 'col.status',
            render: (r) => (r.enabled ? t('common.enabled') : t('common.disabled')),
          },
          {
            key: 'act',
            label: 'col.actions',
            render: (r) =>
              admin && (
                <button onClick={() => act(() => del(`/api/notifications/rules/${r.id}`), rules.reload)}>
                  {t('common.delete')}
                </button>
              ),
          },
        ]}
      />
      <h2>{t('notify.deadLetters')}</h2>
      <DataTable
        testId="dead-letters"
        list={dead}
        rowKey={(d) => d.id}
        columns={[
          { key: 'id', label: 'col.id', sort: 'id', render: (d) => `#${d.id}` },
          { key: 'dest', label: 'notify.destination', render: (d) => destName(d.destinationId) },
          {
            key: 'event',
            label: 'notify.event',
            render: (d) => t(`event.${String(d.event.type ?? 'test')}` as Key),
          },
          { key: 'attempts', label: 'col.attempts', className: 'num', render: (d) => d.attempts },
          { key: 'err', label: 'notify.lastError', className: 'title', render: (d) => d.lastError },
          { key: 'at', label: 'col.date', render: (d) => fmtDate(d.createdAt) },
          {
            key: 'act',
            label: 'col.actions',
            render: (d) =>
              me.role !== 'viewer' && (
                <button
                  onClick={() =>
                    act(
                      () => post(`/api/notifications/deliveries/${d.id}/retry`),
                      dead.reload,
                      t('notify.retried'),
                    )
                  }
                >
                  {t('notify.retry')}
                </button>
              ),
          },
        ]}
      />
    </div>
  );
}

function describeConfig(d: Destination): string {
  const c = d.config as Record<string, unknown>;
  if (d.type === 'syslog')
    return `${String(c.transport ?? 'udp')}://${String(c.host)}:${String(c.port)} ${String(c.format ?? 'rfc5424')}`;
  return String(c.url ?? '');
}

function DestinationForm({ onDone }: { onDone: () => void }) {
  const { t } = useT();
  const [type, setType] = useState<'syslog' | 'webhook' | 'slack'>('webhook');
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState('');
  const [host, setHost] = useState('');
  const [port, setPort] = useState(514);
  const [transport, setTransport] = useState('udp');
  const [format, setFormat] = useState('rfc5424');
  const [error, setError] = useState<unknown>();
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    const config =
      type === 'syslog' ? { host, port, transport, format } : type === 'webhook' ? { url, secret } : { url };
    try {
      await post('/api/notifications/destinations', { name, type, config });
      setName('');
      onDone();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <form className="panel inline" onSubmit={submit}>
      <select
        value={type}
        onChange={(e) => setType(e.target.value as typeof type)}
        aria-label={t('col.type')}
      >
        {(['webhook', 'slack', 'syslog'] as const).map((k) => (
          <option key={k} value={k}>
            {t(`notify.type.${k}` as Key)}
          </option>
        ))}
      </select>
      <input
        placeholder={t('col.name')}
        value={name}
        onChange={(e) => setName(e.target.value)}
        required
        aria-label={t('col.name')}
      />
      {type === 'syslog' ? (
        <>
          <input
            placeholder={t('notify.host')}
            value={host}
            onChange={(e) => setHost(e.target.value)}
            required
            aria-label={t('notify.host')}
          />
          <input
            type="number"
            min={1}
            max={65535}
            value={port}
            onChange={(e) => setPort(Number(e.target.value))}
            aria-label={t('notify.port')}
          />
          <select
            value={transport}
            onChange={(e) => setTransport(e.target.value)}
            aria-label={t('notify.transport')}
          >
            <option value="udp">UDP</option>
            <option value="tcp">TCP</option>
            <option value="tls">TLS</option>
          </select>
          <select value={format} onChange={(e) => setFormat(e.target.value)} aria-label={t('notify.format')}>
            <option value="rfc5424">RFC 5424</option>
            <option value="cef">CEF</option>
          </select>
        </>
      ) : (
        <>
          <input
            type="url"
            placeholder="https://…"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            required
            aria-label={t('col.url')}
          />
          {type === 'webhook' && (
            <input
              type="password"
              placeholder={t('notify.hmacSecret')}
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
              aria-label={t('notify.hmacSecret')}
            />
          )}
        </>
      )}
      <button type="submit" className="primary">
        {t('notify.addDestination')}
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

function RuleForm({ dests, onDone }: { dests: Destination[]; onDone: () => void }) {
  const { t } = useT();
  const [name, setName] = useState('');
  const [event, setEvent] = useState<string>('new-finding');
  const [minSeverity, setMin] = useState('HIGH');
  const [registryFilter, setReg] = useState('');
  const [destinationId, setDest] = useState(dests[0]!.id);
  const [error, setError] = useState<unknown>();
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      await post('/api/notifications/rules', {
        name,
        event,
        minSeverity,
        registryFilter,
        destinationId,
        enabled: true,
      });
      setName('');
      onDone();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <form className="panel inline" onSubmit={submit}>
      <input
        placeholder={t('col.name')}
        value={name}
        onChange={(e) => setName(e.target.value)}
        required
        aria-label={t('col.name')}
      />
      <select value={event} onChange={(e) => setEvent(e.target.value)} aria-label={t('notify.event')}>
        {EVENTS.map((k) => (
          <option key={k} value={k}>
            {t(`event.${k}` as Key)}
          </option>
        ))}
      </select>
      <select
        value={minSeverity}
        onChange={(e) => setMin(e.target.value)}
        aria-label={t('notify.minSeverity')}
      >
        {SEVERITIES.map((s) => (
          <option key={s} value={s}>
            ≥ {t(`sev.${s}` as Key)}
          </option>
        ))}
      </select>
      <input
        placeholder={t('notify.registryFilter')}
        value={registryFilter}
        onChange={(e) => setReg(e.target.value)}
        aria-label={t('notify.registryFilter')}
      />
      <select
        value={destinationId}
        onChange={(e) => setDest(Number(e.target.value))}
        aria-label={t('notify.destination')}
      >
        {dests.map((d) => (
          <option key={d.id} value={d.id}>
            {d.name}
          </option>
        ))}
      </select>
      <button type="submit" className="primary">
        {t('notify.addRule')}
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
