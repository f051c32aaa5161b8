// The ads page: every ad in a table, and the ad editor for a new or an existing one.
import { useState } from 'preact/hooks';
import { AdEditor } from './ad-editor.js';
import { type Ad, api } from './api.js';
import { usePoll } from './use-poll.js';

export function AdsPage() {
  const { data, error, reload } = usePoll(() => api<{ ads: Ad[] }>('GET', '/v1/ads'), []);
  /** The ad being edited: null = none, 'new' = a new one. */
  const [editing, setEditing] = useState<Ad | 'new' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <main>
      <h1>
        Ads{' '}
        {editing === null && (
          <button
            type="button"
            id="new-ad"
            onClick={() => {
              setNotice(null);
              setEditing('new');
            }}
          >
            New ad
          </button>
        )}
      </h1>
      {error !== null && <p class="error">{error}</p>}
      {notice !== null && (
        <p class="notice" id="ads-notice" role="status">
          {notice}
        </p>
      )}
      {editing !== null && (
        <AdEditor
          key={editing === 'new' ? 'new' : editing.id}
          ad={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onSaved={(ad) => {
            setEditing(null);
            setNotice(`Saved ad ${ad.id}.`);
            reload();
          }}
        />
      )}
      <div class="card scroll">
        <table>
          <thead>
            <tr>
              <th>Id</th>
              <th>Name</th>
              <th>Status</th>
              <th>Creative</th>
              <th>Flight</th>
              <th>Cap</th>
              <th>Targeting</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data?.ads.map((a) => (
              <tr key={a.id} data-ad={a.id}>
                <td>{a.id}</td>
                <td>{a.name}</td>
                <td>{a.status}</td>
                <td>
                  {a.creative.type}
                  {a.creative.width !== undefined && ` ${a.creative.width}×${a.creative.height}`}
                </td>
                <td>
                  {a.startAt?.slice(0, 16).replace('T', ' ') ?? '…'} →{' '}
                  {a.endAt?.slice(0, 16).replace('T', ' ') ?? '…'}
                </td>
                <td>
                  {a.frequencyCap ? `${a.frequencyCap.impressions} / ${a.frequencyCap.windowSeconds} s` : '—'}
                </td>
                <td class="rule">{a.targeting ? JSON.stringify(a.targeting) : 'everyone'}</td>
                <td>
                  <button
                    type="button"
                    class="link edit"
                    onClick={() => {
                      setNotice(null);
                      setEditing(a);
                      scrollTo(0, 0);
                    }}
                  >
                    Edit
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </main>
  );
}
