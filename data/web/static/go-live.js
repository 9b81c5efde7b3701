// go-live.js — "/live/go-live": sign in / sign up, the stream form, the
// stream key and the live status of the user's stream.
'use strict';

(() => {
  const { t, h, api } = Veza;
  const $ = (id) => document.getElementById(id);
  const STATUS_MS = 5000;
  const STATUS_FAST_MS = 2000;

  let signUp = false;
  let current = null;        // { stream_id, stream_key, rtmp_url }
  let waitingForLive = false;
  let statusTimer = 0;

  /* ---- helpers ------------------------------------------------------------ */

  function message(el, text, kind) {
    el.hidden = !text;
    el.textContent = text || '';
    el.classList.toggle('notice-error', kind === 'error');
    el.classList.toggle('notice-ok', kind === 'ok');
  }

  function busy(button, on) {
    button.disabled = on;
    button.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  // Any 401 means the token is gone: back to the sign-in form.
  function handleError(e, el) {
    if (e instanceof Veza.ApiError && e.status === 401 && Veza.getToken()) {
      Veza.setSession(null);
      showAuth(t('auth.expired'));
      return;
    }
    message(el, e.message || t('error.generic'), 'error');
  }

  function toLocalInput(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return '';
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      // Not a secure context, or refused: the old way.
      const area = h('textarea', { class: 'visually-hidden', readonly: true });
      area.value = text;
      document.body.append(area);
      area.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
      area.remove();
      return ok;
    }
  }

  /* ---- account ------------------------------------------------------------ */

  function setTab(up) {
    signUp = up;
    $('tab-signin').setAttribute('aria-selected', String(!up));
    $('tab-signup').setAttribute('aria-selected', String(up));
    $('auth-display-field').hidden = !up;
    $('auth-username-hint').hidden = !up;
    $('auth-password-hint').hidden = !up;
    $('auth-password').autocomplete = up ? 'new-password' : 'current-password';
    $('auth-submit').textContent = t(up ? 'auth.submit.signup' : 'auth.submit.signin');
    message($('auth-error'), null);
  }

  function showAuth(notice) {
    clearTimeout(statusTimer);
    current = null;
    $('studio').hidden = true;
    $('account-bar').hidden = true;
    $('auth').hidden = false;
    message($('auth-error'), notice || null, notice ? 'error' : null);
    $('auth-username').focus();
  }

  async function submitAuth(ev) {
    ev.preventDefault();
    const button = $('auth-submit');
    const body = { username: $('auth-username').value.trim(), password: $('auth-password').value };
    if (signUp && $('auth-display').value.trim()) body.display_name = $('auth-display').value.trim();
    busy(button, true);
    button.textContent = t('auth.busy');
    try {
      const data = await api('POST', signUp ? '/auth/register' : '/auth/login', body, { anonymous: true });
      Veza.setSession(data.token, data.user);
      $('auth-password').value = '';
      await showStudio();
    } catch (e) {
      message($('auth-error'), e.message, 'error');
    } finally {
      busy(button, false);
      button.textContent = t(signUp ? 'auth.submit.signup' : 'auth.submit.signin');
    }
  }

  async function signOut() {
    try { await api('POST', '/auth/logout', {}); } catch (e) { /* signing out locally is enough */ }
    Veza.setSession(null);
    showAuth();
  }

  /* ---- stream key --------------------------------------------------------- */

  function showKey(data) {
    current = data;
    $('rtmp-url').value = data.rtmp_url || '';
    $('stream-key').value = data.stream_key || '';
    $('watch-link').href = '/live/' + encodeURIComponent(data.stream_id);
  }

  function toggleReveal() {
    const input = $('stream-key');
    const reveal = input.type === 'password';
    input.type = reveal ? 'text' : 'password';
    $('reveal-key').textContent = t(reveal ? 'key.hide' : 'key.reveal');
    $('reveal-key').setAttribute('aria-pressed', String(reveal));
  }

  async function copyInto(inputId) {
    const ok = await copyText($(inputId).value);
    message($('key-msg'), t(ok ? 'key.copied' : 'key.copy-failed'), ok ? 'ok' : 'error');
  }

  async function regenerate() {
    if (!window.confirm(t('key.regenerate.confirm'))) return;
    const button = $('regenerate-key');
    busy(button, true);
    try {
      showKey(await api('POST', '/live/streams/me/key/regenerate', {}));
      message($('key-msg'), t('key.regenerated'), 'ok');
    } catch (e) {
      handleError(e, $('key-msg'));
    } finally {
      busy(button, false);
    }
  }

  /* ---- stream form -------------------------------------------------------- */

  function fillForm(s) {
    $('f-title').value = s.title || '';
    $('f-description').value = s.description || '';
    $('f-category').value = s.category || '';
    $('f-tags').value = (s.tags || []).join(', ');
    $('f-thumbnail').value = s.thumbnail_url || '';
    $('f-schedule').value = s.scheduled_at && new Date(s.scheduled_at) > Date.now() ? toLocalInput(s.scheduled_at) : '';
  }

  function readForm() {
    const tags = [];
    for (const raw of $('f-tags').value.split(',')) {
      const tag = raw.trim().replace(/^#/, '');
      if (tag && !tags.includes(tag)) tags.push(tag);
    }
    return {
      title: $('f-title').value.trim(),
      description: $('f-description').value.trim(),
      category: $('f-category').value.trim(),
      tags: tags.slice(0, 10),
      thumbnail_url: $('f-thumbnail').value.trim(),
    };
  }

  // action: 'save' | 'live' | 'schedule'
  async function saveStream(action, button) {
    const msg = $('stream-msg');
    const body = readForm();
    if (!body.title) {
      message(msg, t('stream.title.missing'), 'error');
      $('f-title').focus();
      return;
    }
    const when = $('f-schedule').value ? new Date($('f-schedule').value) : null;
    if (action === 'schedule') {
      if (!when || isNaN(when)) {
        message(msg, t('stream.schedule.missing'), 'error');
        $('f-schedule').focus();
        return;
      }
      if (when <= Date.now()) {
        message(msg, t('stream.schedule.past'), 'error');
        $('f-schedule').focus();
        return;
      }
      body.scheduled_at = when.toISOString();
    } else if (action === 'live') {
      body.scheduled_at = null;
    } else {
      body.scheduled_at = when && !isNaN(when) && when > Date.now() ? when.toISOString() : null;
    }

    busy(button, true);
    try {
      if (!current) showKey(await api('GET', '/live/streams/me/key'));
      const data = await api('PUT', '/live/streams/' + encodeURIComponent(current.stream_id), body);
      const s = data.stream || data;
      if (action === 'schedule') {
        message(msg, t('stream.scheduled', { date: Veza.formatDate(s.scheduled_at) }), 'ok');
      } else if (action === 'live') {
        $('f-schedule').value = '';
        message(msg, null);
        waitingForLive = true;
      } else {
        message(msg, t('stream.saved'), 'ok');
      }
      await refreshStatus();
    } catch (e) {
      handleError(e, msg);
    } finally {
      busy(button, false);
    }
  }

  /* ---- status ------------------------------------------------------------- */

  function setStatus(badgeKey, badgeClass, text, link) {
    const badge = $('status-badge');
    badge.textContent = t(badgeKey);
    badge.className = 'badge ' + badgeClass;
    $('status-text').textContent = text;
    if (link) $('watch-link').href = link;
    $('status-heading').closest('.card').classList.toggle('card-live', badgeClass === 'badge-live');
  }

  async function refreshStatus() {
    clearTimeout(statusTimer);
    if (!current) return;
    try {
      const data = await api('GET', '/live/streams/me');
      const streams = (data && data.streams) || [];
      const live = streams.find((s) => s.is_live);
      const mine = streams.find((s) => s.id === current.stream_id);
      if (live) {
        // A new broadcast of the same key may have taken over.
        if (live.id !== current.stream_id) showKey({ stream_id: live.id, stream_key: live.stream_key, rtmp_url: live.rtmp_url });
        waitingForLive = false;
        setStatus('badge.live', 'badge-live',
          t('status.live') + ' ' + Veza.viewersText(live.viewer_count) + ' · ' +
          t('status.live-since', { time: Veza.formatDuration((Date.now() - new Date(live.started_at)) / 1000) }),
          '/live/' + encodeURIComponent(live.id));
      } else if (waitingForLive) {
        setStatus('badge.offline', 'badge-waiting', t('status.waiting'));
      } else if (mine && mine.scheduled_at && new Date(mine.scheduled_at) > Date.now()) {
        setStatus('badge.scheduled', 'badge-scheduled', t('status.scheduled', { date: Veza.formatDate(mine.scheduled_at) }) +
          ' ' + Veza.countdownText(mine.scheduled_at) + '.');
      } else if (mine && mine.ended_at) {
        setStatus('badge.ended', 'badge-offline', t('status.ended'));
      } else {
        setStatus('badge.offline', 'badge-offline', t('status.offline'));
      }
    } catch (e) {
      if (e instanceof Veza.ApiError && e.status === 401) {
        handleError(e, $('stream-msg'));
        return;
      }
    }
    statusTimer = setTimeout(refreshStatus, waitingForLive ? STATUS_FAST_MS : STATUS_MS);
  }

  /* ---- studio ------------------------------------------------------------- */

  async function showStudio() {
    const user = Veza.getUser();
    $('auth').hidden = true;
    $('studio').hidden = false;
    $('account-bar').hidden = false;
    $('signed-in-as').textContent = t('auth.signed-in-as', {
      name: (user && (user.display_name || user.username)) || '',
    });
    try {
      showKey(await api('GET', '/live/streams/me/key'));
      const data = await api('GET', '/live/streams/' + encodeURIComponent(current.stream_id));
      fillForm(data.stream);
      await refreshStatus();
    } catch (e) {
      handleError(e, $('stream-msg'));
    }
  }

  async function start() {
    Veza.initPage();
    document.title = t('go.title');
    $('tab-signin').addEventListener('click', () => setTab(false));
    $('tab-signup').addEventListener('click', () => setTab(true));
    $('auth-form').addEventListener('submit', submitAuth);
    $('signout').addEventListener('click', signOut);
    $('reveal-key').addEventListener('click', toggleReveal);
    $('copy-key').addEventListener('click', () => copyInto('stream-key'));
    $('copy-server').addEventListener('click', () => copyInto('rtmp-url'));
    $('regenerate-key').addEventListener('click', regenerate);
    $('stream-form').addEventListener('submit', (ev) => { ev.preventDefault(); saveStream('save', $('btn-save')); });
    $('btn-go-live').addEventListener('click', () => saveStream('live', $('btn-go-live')));
    $('btn-schedule').addEventListener('click', () => saveStream('schedule', $('btn-schedule')));
    setTab(false);

    if (!Veza.getToken()) {
      showAuth();
      return;
    }
    try {
      const me = await api('GET', '/auth/me');
      Veza.setSession(Veza.getToken(), me.user);
      await showStudio();
    } catch (e) {
      if (e.status === 401) {
        Veza.setSession(null);
        showAuth(t('auth.expired'));
      } else {
        showAuth(e.message);
      }
    }
  }

  start();
})();
