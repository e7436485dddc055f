/** Login and first-run bootstrap (admin token from the server's first-start message → admin account). */
import { useState, type FormEvent } from 'react';
import { post } from '../api';
import { ErrorBox } from '../components';
import { LanguageSwitch, useT } from '../i18n';

export function LoginPage({ onLogin }: { onLogin: () => void }) {
  const { t } = useT();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await post('/api/auth/login', { username, password });
      onLogin();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div className="authbox">
      <div className="authhead">
        <h1>{t('auth.loginTitle')}</h1>
        <LanguageSwitch />
      </div>
      <form onSubmit={submit}>
        <label>
          {t('auth.username')}
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
          />
        </label>
        <label>
          {t('auth.password')}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <ErrorBox error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {t('auth.login')}
        </button>
      </form>
    </div>
  );
}

export function BootstrapPage({ onDone }: { onDone: () => void }) {
  const { t } = useT();
  const [token, setToken] = useState('');
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<unknown>();
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    if (password !== confirm) {
      setError(new Error(t('auth.mismatch')));
      return;
    }
    try {
      await post('/api/auth/bootstrap', { token: token.trim(), username, password });
      onDone();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <div className="authbox">
      <div className="authhead">
        <h1>{t('auth.bootstrapTitle')}</h1>
        <LanguageSwitch />
      </div>
      <p className="muted">{t('auth.bootstrapHelp')}</p>
      <form onSubmit={submit}>
        <label>
          {t('auth.token')}
          <input name="token" value={token} onChange={(e) => setToken(e.target.value)} required />
        </label>
        <label>
          {t('auth.username')}
          <input name="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          {t('auth.newPassword')}
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <label>
          {t('auth.confirmPassword')}
          <input
            name="confirm"
            type="password"
            autoComplete="new-password"
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
            required
          />
        </label>
        <ErrorBox error={error} />
        <button type="submit" className="primary">
          {t('auth.createAdmin')}
        </button>
      </form>
    </div>
  );
}
