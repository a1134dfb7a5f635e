// Keeps the iframe signed in to jotgate with no user action:
//   1. mint a token at this site's /token and POST it to <gateway>/<prefix>/.auth/session with
//      credentials: jotgate sets its session cookie (SameSite=None; Secure; Partitioned);
//   2. show the app in the iframe;
//   3. every `watch` seconds ask .auth/me (which does not extend the session); when it answers 401,
//      or the session has at most `renewBefore` seconds left, sign in again and reload the iframe.
// Query parameters of this page: ?watch=5&renewBefore=2 (seconds).
const config = await (await fetch('/config.json')).json();
const settings = new URLSearchParams(location.search);
const watchSeconds = Number(settings.get('watch') ?? 5);
const renewBefore = Number(settings.get('renewBefore') ?? 2);

const frame = document.getElementById('app');
const status = document.getElementById('status');
let signedOut = false;
let watchTimer;

function log(message) {
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()} ${message}`;
  document.getElementById('log').append(item);
}

async function signIn() {
  const minted = await fetch('/token', { method: 'POST' });
  if (!minted.ok) throw new Error(`the token endpoint answered ${minted.status}`);
  const { token } = await minted.json();
  const answer = await fetch(`${config.gateway}/.auth/session`, {
    method: 'POST',
    credentials: 'include',
    headers: { Authorization: `Bearer ${token}` },
  });
  if (answer.status !== 204) throw new Error(`.auth/session answered ${answer.status}`);
  // A browser that blocks third-party cookies drops an unpartitioned one without a word.
  if (await currentSession() === null) {
    throw new Error('signed in, but the browser did not keep the session cookie (it must be Partitioned)');
  }
}

function showApp() {
  frame.src = `${config.gateway}${config.app}`; // setting src navigates again, even to the same URL
}

// The live session ({userId, userDirectory, expiresIn, ...}), or null when there is none.
async function currentSession() {
  const answer = await fetch(`${config.gateway}/.auth/me`, { credentials: 'include' });
  if (answer.status === 401) return null;
  if (!answer.ok) throw new Error(`.auth/me answered ${answer.status}`);
  return answer.json();
}

async function watch() {
  if (signedOut) return;
  try {
    const session = await currentSession();
    if (session === null || session.expiresIn <= renewBefore) {
      log(session === null ? '.auth/me: 401, the session has ended: signing in again'
                           : `.auth/me: ${session.expiresIn} s left: signing in again`);
      await signIn();
      showApp();
      log('signed in again, app reloaded');
    } else {
      status.textContent = `signed in as ${session.userDirectory}\\${session.userId}, ` +
                           `session ends in ${session.expiresIn} s without activity`;
    }
  } catch (error) {
    log(`error: ${error.message}`);
  }
  if (!signedOut) watchTimer = setTimeout(watch, watchSeconds * 1000);
}

async function start() {
  signedOut = false;
  try {
    await signIn();
    showApp();
    log('signed in, app shown');
    status.textContent = 'signed in';
  } catch (error) {
    log(`error: ${error.message}`);
  }
  clearTimeout(watchTimer);
  watchTimer = setTimeout(watch, watchSeconds * 1000);
}

// Signing out is a form POST into the iframe: jotgate ends the session, expires the cookie and
// sends the iframe to the virtual proxy's logout_redirect_uri.
function signOut() {
  signedOut = true;
  clearTimeout(watchTimer);
  const form = document.createElement('form');
  form.method = 'post';
  form.action = `${config.gateway}/.auth/logout`;
  form.target = frame.name;
  document.body.append(form);
  form.submit();
  form.remove();
  status.textContent = 'signed out';
  log('signed out');
}

document.getElementById('sign-out').addEventListener('click', signOut);
document.getElementById('sign-in').addEventListener('click', start);
start();
