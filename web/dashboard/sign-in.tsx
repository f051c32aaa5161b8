// The sign-in form: checks the admin token against the API before keeping it.
import { useState } from 'preact/hooks';
import { ApiError, api, setToken } from './api.js';
import { message } from './message.js';

export function SignIn({ onSignedIn, notice }: { onSignedIn: () => void; notice: string | null }) {
  const [token, setValue] = useState('');
  const [error, setError] = useState<string | null>(notice);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await api('GET', '/v1/placements', undefined, token.trim());
      setToken(token.trim());
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That token was refused.' : message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} class="card">
        <h1>Allot</h1>
        <label for="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          value={token}
          onInput={(e) => setValue(e.currentTarget.value)}
          required
        />
        {error !== null && <p class="error">{error}</p>}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <p class="hint">Kept in this tab only (sessionStorage), sent as a bearer token.</p>
      </form>
    </main>
  );
}
