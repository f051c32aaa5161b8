// The manager dashboard's entry point: sign in with the admin token, then the top navigation and
// the page for the route: placements at a glance, one placement (target editor with what-if check
// and save, live share chart, hourly history, settings), or the ads.
import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { AdsPage } from './ads-page.js';
import { clearToken, getToken, setUnauthorizedHandler } from './api.js';
import { Overview } from './overview.js';
import { PlacementPage } from './placement-page.js';
import { useRoute } from './route.js';
import { SignIn } from './sign-in.js';

function App() {
  const [signedIn, setSignedIn] = useState(() => getToken() !== null);
  const [notice, setNotice] = useState<string | null>(null);
  const route = useRoute();
  useMemo(
    () =>
      setUnauthorizedHandler(() => {
        clearToken();
        setNotice('The token was refused: sign in again.');
        setSignedIn(false);
      }),
    [],
  );
  if (!signedIn) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={() => {
          setNotice(null);
          setSignedIn(true);
        }}
      />
    );
  }
  return (
    <>
      <nav class="top">
        <a class="brand" href="#/">
          Allot
        </a>
        <a href="#/" class={route.page !== 'ads' ? 'active' : ''}>
          Placements
        </a>
        <a href="#/ads" class={route.page === 'ads' ? 'active' : ''}>
          Ads
        </a>
        <button
          type="button"
          class="link"
          id="sign-out"
          onClick={() => {
            clearToken();
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </nav>
      {route.page === 'overview' && <Overview />}
      {route.page === 'placement' && <PlacementPage key={route.id} id={route.id} />}
      {route.page === 'ads' && <AdsPage />}
    </>
  );
}

render(<App />, document.getElementById('app')!);
