// The login page: trades a token for an HttpOnly session cookie (POST /auth/login), then goes
// back to the page that sent the browser here. The token is never stored by the page.

const form = /** @type {HTMLFormElement} */ (document.getElementById('login'));
const tokenInput = /** @type {HTMLInputElement} */ (document.getElementById('token'));
const errorBox = /** @type {HTMLElement} */ (document.getElementById('error'));

/** Where to go after logging in: only a path of this server, never another site. */
function nextPath() {
  const next = new URLSearchParams(location.search).get('next') ?? '/';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  if (tokenInput.value.trim() === '') {
    // The server would answer with the shape of its JSON body, which means nothing here.
    errorBox.textContent = 'could not log in: paste your access token first';
    errorBox.hidden = false;
    tokenInput.focus();
    return;
  }
  try {
    const response = await fetch('/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: tokenInput.value }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok)
      throw new Error(answer.message ?? `${response.status} ${response.statusText}`);
    tokenInput.value = '';
    location.assign(nextPath());
  } catch (err) {
    errorBox.textContent = `could not log in: ${err instanceof Error ? err.message : String(err)}`;
    errorBox.hidden = false;
  }
});
