/** The console's shell: session check, first-run bootstrap, navigation and page routing. */
import { StrictMode, useCallback, useEffect, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { get, post, setUnauthorizedHandler, type Me, type Role } from './api';
import { Link } from './components';
import { I18nProvider, LanguageSwitch, useT, type Key } from './i18n';
import { match, navigate, useLocation } from './router';
import { LoginPage, BootstrapPage } from './pages/auth';
import { DashboardPage } from './pages/dashboard';
import { ImagesPage, ImagePage } from './pages/images';
import { AdvisoriesPage, AdvisoryPage } from './pages/advisories';
import { CompliancePage } from './pages/compliance';
import { RegistriesPage } from './pages/registries';
import { NotificationsPage } from './pages/notifications';
import { UsersPage } from './pages/users';
import { AuditPage } from './pages/audit';
import { SuppressionsPage } from './pages/suppressions';
import { TokensPage } from './pages/tokens';
import { RuntimePage, RuntimeEventPage } from './pages/runtime';
import { NetworkPage } from './pages/network';
import { ProfilesPage, WorkloadPage } from './pages/profiles';
import { BenchmarksPage, BenchmarkNodePage } from './pages/benchmarks';
import './styles.css';

const NAV: { to: string; label: Key; role?: Role }[] = [
  { to: '/', label: 'nav.dashboard' },
  { to: '/images', label: 'nav.images' },
  { to: '/advisories', label: 'nav.advisories' },
  { to: '/compliance', label: 'nav.compliance' },
  { to: '/runtime', label: 'nav.runtime' },
  { to: '/profiles', label: 'nav.profiles' },
  { to: '/network', label: 'nav.network' },
  { to: '/benchmarks', label: 'nav.benchmarks' },
  { to: '/admission', label: 'nav.admission' },
  { to: '/waf', label: 'nav.waf' },
  { to: '/registries', label: 'nav.registries' },
  { to: '/suppressions', label: 'nav.suppressions' },
  { to: '/notifications', label: 'nav.notifications' },
  { to: '/tokens', label: 'nav.tokens' },
  { to: '/users', label: 'nav.users', role: 'admin' },
  { to: '/audit', label: 'nav.audit', role: 'admin' },
];

function Routes({ me }: { me: Me['user'] }): ReactNode {
  const { path } = useLocation();
  const { t } = useT();
  let m: Record<string, string> | undefined;
  if (path === '/' || path === '') return <DashboardPage />;
  if (path === '/images') return <ImagesPage />;
  if ((m = match('/images/:id', path))) return <ImagePage id={Number(m.id)} me={me} />;
  if (path === '/advisories') return <AdvisoriesPage />;
  if (path === '/compliance') return <CompliancePage />;
  if (path === '/runtime') return <RuntimePage key="runtime" />;
  if (path === '/network') return <NetworkPage />;
  if (path === '/profiles') return <ProfilesPage />;
  if (path === '/profiles/workload') return <WorkloadPage me={me} />;
  if (path === '/benchmarks') return <BenchmarksPage />;
  if (path === '/benchmarks/node') return <BenchmarkNodePage />;
  if (path === '/waf') return <RuntimePage key="waf" fixedKind="waf" title="nav.waf" />;
  if (path === '/admission')
    return <RuntimePage key="admission" fixedKind="admission" title="nav.admission" />;
  if ((m = match('/runtime/:id', path))) return <RuntimeEventPage id={Number(m.id)} me={me} />;
  if ((m = match('/advisories/:id', path))) return <AdvisoryPage id={m.id!} />;
  if (path === '/registries') return <RegistriesPage me={me} />;
  if (path === '/suppressions') return <SuppressionsPage me={me} />;
  if (path === '/notifications') return <NotificationsPage me={me} />;
  if (path === '/tokens') return <TokensPage me={me} />;
  if (path === '/users') return <UsersPage />;
  if (path === '/audit') return <AuditPage />;
  return <p>{t('common.notFound')}</p>;
}

function Shell({ me, onLogout }: { me: Me['user']; onLogout: () => void }) {
  const { t } = useT();
  const { path } = useLocation();
  const roleOk = (r?: Role) => !r || me.role === 'admin' || (r === 'operator' && me.role === 'operator');
  return (
    <div className="app">
      <header>
        <span className="brand">Bulwark</span>
        <nav>
          {NAV.filter((n) => roleOk(n.role)).map((n) => (
            <Link
              key={n.to}
              to={n.to}
              className={(n.to === '/' ? path === '/' : path.startsWith(n.to)) ? 'active' : ''}
            >
              {t(n.label)}
            </Link>
          ))}
        </nav>
        <div className="right">
          <LanguageSwitch />
          <span className="user" data-testid="current-user">
            {me.username} · {t(`role.${me.role}` as Key)}
          </span>
          <button onClick={onLogout}>{t('auth.logout')}</button>
        </div>
      </header>
      <main>
        <Routes me={me} />
      </main>
    </div>
  );
}

function App() {
  const [state, setState] = useState<
    { phase: 'loading' } | { phase: 'bootstrap' } | { phase: 'login' } | { phase: 'in'; me: Me['user'] }
  >({ phase: 'loading' });
  const { t } = useT();

  const refresh = useCallback(async () => {
    try {
      const me = await get<Me>('/api/auth/me');
      setState({ phase: 'in', me: me.user });
      if (location.pathname === '/login' || location.pathname === '/bootstrap') navigate('/', true);
    } catch {
      const status = await get<{ needsBootstrap: boolean }>('/api/auth/status').catch(() => ({
        needsBootstrap: false,
      }));
      setState({ phase: status.needsBootstrap ? 'bootstrap' : 'login' });
    }
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => setState({ phase: 'login' }));
    void refresh();
  }, [refresh]);

  if (state.phase === 'loading') return <p className="center">{t('common.loading')}</p>;
  if (state.phase === 'bootstrap') return <BootstrapPage onDone={refresh} />;
  if (state.phase === 'login') return <LoginPage onLogin={refresh} />;
  return (
    <Shell
      me={state.me}
      onLogout={async () => {
        await post('/api/auth/logout').catch(() => undefined);
        setState({ phase: 'login' });
        navigate('/login', true);
      }}
    />
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nProvider>
      <App />
    </I18nProvider>
  </StrictMode>,
);
