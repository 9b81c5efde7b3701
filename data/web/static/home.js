// home.js — "/": live now, scheduled (with a countdown) and replays.
'use strict';

(() => {
  const { t, h, api } = Veza;
  const REFRESH_MS = 30000;

  function thumbnail(stream, badge) {
    const url = Veza.safeImageUrl(stream.thumbnail_url);
    const name = stream.streamer_name || '?';
    const box = h('div', { class: 'thumb' });
    if (url) {
      box.append(h('img', { src: url, alt: '', loading: 'lazy', decoding: 'async', referrerpolicy: 'no-referrer' }));
    } else {
      box.classList.add('thumb-placeholder');
      box.style.setProperty('--hue', Veza.hueOf(stream.user_id || name));
      box.append(h('span', { class: 'thumb-initial', 'aria-hidden': 'true' }, name.trim().charAt(0).toUpperCase()));
    }
    box.append(badge);
    return box;
  }

  function card(stream, kind) {
    const title = stream.title || t('untitled');
    let badge;
    let extra = null;
    if (kind === 'live') {
      badge = h('span', { class: 'badge badge-live' }, t('badge.live'));
      extra = h('span', { class: 'card-viewers' }, Veza.viewersText(stream.viewer_count));
    } else if (kind === 'scheduled') {
      badge = h('span', { class: 'badge badge-scheduled' }, t('badge.scheduled'));
      extra = h('span', { class: 'countdown', 'data-at': stream.scheduled_at },
        Veza.countdownText(stream.scheduled_at));
    } else {
      badge = h('span', { class: 'badge badge-replay' }, t('badge.replay'));
      if (stream.started_at) extra = h('span', null, t('streamed.on', { date: Veza.formatDate(stream.started_at) }));
    }
    return h('article', { class: 'stream-card' },
      h('a', { class: 'card-link', href: '/live/' + encodeURIComponent(stream.id) },
        thumbnail(stream, badge),
        h('div', { class: 'card-body' },
          h('h3', { class: 'card-title' }, title),
          h('p', { class: 'card-streamer' }, stream.streamer_name || ''),
          h('p', { class: 'card-meta' },
            stream.category ? h('span', { class: 'chip' }, stream.category) : null,
            extra))));
  }

  async function fill(listId, query, kind, emptyKey) {
    const list = document.getElementById(listId);
    const data = await api('GET', '/live/streams?' + query, undefined, { anonymous: true });
    const streams = (data && data.streams) || [];
    list.replaceChildren(...(streams.length
      ? streams.map((s) => card(s, kind))
      : [h('p', { class: 'empty' }, t(emptyKey))]));
    list.setAttribute('aria-busy', 'false');
  }

  async function refresh() {
    const error = document.getElementById('home-error');
    const results = await Promise.allSettled([
      fill('live-list', 'is_live=true&limit=48', 'live', 'home.live.empty'),
      fill('scheduled-list', 'scheduled=true&limit=24', 'scheduled', 'home.scheduled.empty'),
      fill('replays-list', 'is_vod=true&is_live=false&limit=24', 'replay', 'home.replays.empty'),
    ]);
    const failed = results.some((r) => r.status === 'rejected');
    error.hidden = !failed;
    if (failed) error.textContent = t('home.error');
  }

  function tickCountdowns() {
    document.querySelectorAll('.countdown[data-at]').forEach((el) => {
      el.textContent = Veza.countdownText(el.dataset.at);
    });
  }

  Veza.initPage();
  document.title = t('home.title');
  for (const id of ['live-list', 'scheduled-list', 'replays-list']) {
    document.getElementById(id).append(h('p', { class: 'empty' }, t('loading')));
  }
  refresh();
  setInterval(refresh, REFRESH_MS);
  setInterval(tickCountdowns, 1000);
})();
