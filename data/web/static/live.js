// live.js — "/live/{id}": the player (hls.js, or the browser's own HLS),
// stream details, viewer count, playback speed and Media Session.
'use strict';

(() => {
  const { t, h, api } = Veza;
  const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];
  const SPEED_KEY = 'veza.playback-rate';
  const VIEWERS_MS = 5000;
  const STREAM_MS = 10000;
  const SEEK_STEP = 10;

  const streamId = decodeURIComponent(location.pathname.split('/')[2] || '');
  const viewerId = Veza.viewerId();
  const $ = (id) => document.getElementById(id);
  const video = $('video');
  const speedSelect = $('speed');

  let stream = null;
  let mode = null;          // 'live' | 'replay' | 'waiting' | 'ended' | 'missing'
  let hls = null;
  let playingUrl = null;
  let restartTimer = 0;
  let viewersTimer = 0;
  let countdownTimer = 0;
  let chosenSpeed = loadSpeed();
  let settingRate = false;

  /* ---- speed ----------------------------------------------------------- */

  function loadSpeed() {
    let v = 1;
    try { v = Number(localStorage.getItem(SPEED_KEY) || '1'); } catch (e) { /* storage disabled */ }
    return SPEEDS.includes(v) ? v : 1;
  }

  function saveSpeed(v) {
    try { localStorage.setItem(SPEED_KEY, String(v)); } catch (e) { /* storage disabled */ }
  }

  // The live sync point: where a player "at the live edge" plays.
  function liveEdge() {
    if (hls && typeof hls.liveSyncPosition === 'number' && hls.liveSyncPosition > 0) return hls.liveSyncPosition;
    const s = video.seekable;
    return s.length ? Math.max(0, s.end(s.length - 1) - 6) : null;
  }

  function atLiveEdge() {
    if (mode !== 'live') return false;
    const edge = liveEdge();
    return edge === null || video.currentTime >= edge - 2;
  }

  // At the live edge nothing can play faster than real time: speeds above
  // 1× apply only when behind it; slower speeds always apply.
  function applySpeed() {
    const clamped = chosenSpeed > 1 && atLiveEdge();
    const rate = clamped ? 1 : chosenSpeed;
    $('speed-note').hidden = !clamped;
    if (video.playbackRate !== rate || video.defaultPlaybackRate !== rate) {
      settingRate = true;
      video.defaultPlaybackRate = rate;
      video.playbackRate = rate;
      settingRate = false;
    }
    const behind = mode === 'live' && liveEdge() !== null && video.currentTime < liveEdge() - 8;
    $('jump-live').hidden = !behind;
  }

  function setupSpeed() {
    speedSelect.value = String(chosenSpeed);
    speedSelect.addEventListener('change', () => {
      const v = Number(speedSelect.value);
      chosenSpeed = SPEEDS.includes(v) ? v : 1;
      saveSpeed(chosenSpeed);
      applySpeed();
    });
    // The browser's own controls may change the rate too.
    video.addEventListener('ratechange', () => {
      if (settingRate) return;
      const r = video.playbackRate;
      if (SPEEDS.includes(r) && r !== chosenSpeed && !(r === 1 && atLiveEdge())) {
        chosenSpeed = r;
        speedSelect.value = String(r);
        saveSpeed(r);
      }
      applySpeed();
    });
    video.addEventListener('timeupdate', applySpeed);
    video.addEventListener('loadedmetadata', applySpeed);
    $('jump-live').addEventListener('click', () => {
      const edge = liveEdge();
      if (edge !== null) video.currentTime = edge;
      video.play().catch(() => {});
    });
  }

  /* ---- overlay ----------------------------------------------------------- */

  function overlay(textKey, opts) {
    const o = $('overlay');
    o.hidden = !textKey;
    o.classList.toggle('overlay-solid', !!(opts && opts.solid));
    if (!textKey) return;
    $('overlay-text').textContent = t(textKey);
    const cd = $('overlay-countdown');
    clearInterval(countdownTimer);
    if (opts && opts.countdown) {
      const tick = () => { cd.textContent = Veza.countdownText(opts.countdown); };
      tick();
      countdownTimer = setInterval(tick, 1000);
      cd.hidden = false;
    } else {
      cd.hidden = true;
    }
    const link = $('overlay-link');
    link.hidden = !(opts && opts.replay);
    if (opts && opts.replay) {
      link.textContent = t('live.watch-replay');
      link.href = location.pathname;
      link.onclick = (e) => { e.preventDefault(); startPlayer(stream.stream_url, 'replay'); };
    }
  }

  /* ---- player ------------------------------------------------------------ */

  function withViewer(url) {
    if (!/\.m3u8(\?|$)/.test(url) || /[?&]viewer=/.test(url)) return url;
    return url + (url.includes('?') ? '&' : '?') + 'viewer=' + encodeURIComponent(viewerId);
  }

  function stopPlayer() {
    clearTimeout(restartTimer);
    if (hls) {
      hls.destroy();
      hls = null;
    }
    video.removeAttribute('src');
    video.load();
    playingUrl = null;
  }

  function play() {
    const p = video.play();
    if (p && p.catch) {
      p.catch((e) => {
        // Autoplay with sound refused: start muted, the controls can unmute.
        if (e && e.name === 'NotAllowedError' && !video.muted) {
          video.muted = true;
          video.play().catch(() => {});
        }
      });
    }
  }

  function scheduleRestart(url, newMode) {
    clearTimeout(restartTimer);
    restartTimer = setTimeout(() => { if (mode === newMode) startPlayer(url, newMode, true); }, 3000);
  }

  function startPlayer(url, newMode, retry) {
    if (!url) return;
    if (playingUrl === url && mode === newMode && !retry) return;
    stopPlayer();
    mode = newMode;
    playingUrl = url;
    updateBadge();
    overlay(retry ? 'live.player-error' : 'live.loading');

    if (window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls({
        enableWorker: true,
        lowLatencyMode: false,
        backBufferLength: 90,
        // Presence: playlist requests carry this browser's viewer id.
        xhrSetup: (xhr, u) => { xhr.open('GET', withViewer(u), true); },
      });
      hls.on(window.Hls.Events.ERROR, (ev, data) => {
        if (!data.fatal) return;
        if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) {
          hls.recoverMediaError();
          return;
        }
        // The live playlist may not exist yet, or the network dropped.
        overlay('live.player-error');
        scheduleRestart(url, newMode);
      });
      hls.loadSource(url);
      hls.attachMedia(video);
      hls.on(window.Hls.Events.MANIFEST_PARSED, () => { applySpeed(); play(); });
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = withViewer(url);
      play();
    } else {
      overlay('live.unsupported', { solid: true });
      return;
    }
    applySpeed();
  }

  video.addEventListener('playing', () => { overlay(null); });
  video.addEventListener('error', () => {
    if (!hls && playingUrl) {
      overlay('live.player-error');
      scheduleRestart(playingUrl, mode);
    }
  });

  /* ---- stream details ---------------------------------------------------- */

  function updateBadge() {
    const badge = $('badge');
    const classes = { live: 'badge-live', replay: 'badge-replay', waiting: 'badge-scheduled', ended: 'badge-offline' };
    let key = null;
    if (mode === 'live') key = 'badge.live';
    else if (mode === 'replay') key = 'badge.replay';
    else if (mode === 'waiting') key = stream && stream.scheduled_at ? 'badge.scheduled' : 'badge.offline';
    else if (mode === 'ended') key = 'badge.ended';
    badge.hidden = !key;
    if (key) {
      badge.textContent = t(key);
      badge.className = 'badge ' + (mode === 'waiting' && !(stream && stream.scheduled_at)
        ? 'badge-offline' : classes[mode]);
    }
    $('viewers').hidden = mode !== 'live';
  }

  function renderInfo() {
    const title = stream.title || t('untitled');
    document.title = t('live.title', { title });
    $('stream-title').textContent = title;
    const meta = [];
    meta.push(h('span', { class: 'streamer' }, stream.streamer_name || ''));
    if (stream.category) meta.push(h('span', { class: 'chip' }, stream.category));
    if (stream.is_live && stream.started_at) {
      meta.push(h('span', { class: 'muted' }, t('started.ago', {
        time: Veza.formatDuration((Date.now() - new Date(stream.started_at)) / 1000),
      })));
    } else if (stream.is_vod && stream.started_at) {
      meta.push(h('span', { class: 'muted' }, t('streamed.on', { date: Veza.formatDate(stream.started_at) })));
    }
    $('stream-meta').replaceChildren(...meta);
    $('stream-description').textContent = stream.description || t('live.no-description');
    $('stream-description').classList.toggle('muted', !stream.description);
    $('stream-tags').replaceChildren(...(stream.tags || []).map((tag) => h('li', { class: 'tag' }, '#' + tag)));
    const avatar = $('avatar');
    avatar.textContent = (stream.streamer_name || '?').trim().charAt(0).toUpperCase();
    avatar.style.setProperty('--hue', Veza.hueOf(stream.user_id || stream.streamer_name));
    const poster = Veza.safeImageUrl(stream.thumbnail_url);
    if (poster) video.poster = poster; else video.removeAttribute('poster');
    updateMediaSession();
  }

  function updateMediaSession() {
    if (!('mediaSession' in navigator) || !stream) return;
    const art = Veza.safeImageUrl(stream.thumbnail_url);
    try {
      navigator.mediaSession.metadata = new MediaMetadata({
        title: stream.title || t('untitled'),
        artist: stream.streamer_name || '',
        album: t('app.name'),
        artwork: art ? [{ src: art }] : [],
      });
    } catch (e) { /* MediaMetadata missing */ }
  }

  function setupMediaSession() {
    if (!('mediaSession' in navigator)) return;
    const seekTo = (target) => {
      const s = video.seekable;
      if (s.length) target = Math.min(Math.max(target, s.start(0)), s.end(s.length - 1));
      video.currentTime = Math.max(0, target);
    };
    const handlers = {
      play: () => play(),
      pause: () => video.pause(),
      seekbackward: (d) => seekTo(video.currentTime - ((d && d.seekOffset) || SEEK_STEP)),
      seekforward: (d) => seekTo(video.currentTime + ((d && d.seekOffset) || SEEK_STEP)),
    };
    for (const [action, fn] of Object.entries(handlers)) {
      try { navigator.mediaSession.setActionHandler(action, fn); } catch (e) { /* unsupported action */ }
    }
  }

  async function pollViewers() {
    if (mode !== 'live') return;
    try {
      const data = await api('GET', '/live/streams/' + encodeURIComponent(streamId) + '/viewers',
        undefined, { anonymous: true });
      const n = data.viewer_count || 0;
      const el = $('viewers');
      el.textContent = Veza.viewersText(n);
      el.dataset.count = String(n);
    } catch (e) { /* the next poll tries again */ }
  }

  // Decides what the page shows from the stream's state.
  function applyState() {
    if (stream.is_live) {
      startPlayer(stream.stream_url, 'live');
    } else if (mode === 'live') {
      // The broadcast just ended: keep the last picture, offer the replay.
      stopPlayer();
      mode = 'ended';
      overlay(stream.is_vod ? 'live.replay-available' : 'live.ended', { solid: true, replay: stream.is_vod });
    } else if (stream.is_vod) {
      if (mode !== 'replay' && mode !== 'ended') startPlayer(stream.stream_url, 'replay');
      else if (mode === 'ended') overlay('live.replay-available', { solid: true, replay: true });
    } else if (stream.ended_at) {
      stopPlayer();
      mode = 'ended';
      overlay('live.ended-no-replay', { solid: true });
    } else {
      if (mode !== 'waiting') stopPlayer();
      mode = 'waiting';
      const future = stream.scheduled_at && new Date(stream.scheduled_at) > Date.now();
      overlay(future ? 'live.scheduled' : 'live.offline',
        { solid: true, countdown: future ? stream.scheduled_at : null });
    }
    updateBadge();
  }

  async function loadStream() {
    try {
      const data = await api('GET', '/live/streams/' + encodeURIComponent(streamId), undefined, { anonymous: true });
      stream = data.stream;
    } catch (e) {
      if (e.status === 404 || e.status === 400) {
        mode = 'missing';
        stopPlayer();
        overlay('live.not-found', { solid: true });
        $('stream-title').textContent = t('live.not-found');
        updateBadge();
        return false;
      }
      if (!stream) overlay('live.error', { solid: true });
      return true;
    }
    renderInfo();
    applyState();
    return true;
  }

  async function start() {
    Veza.initPage();
    setupSpeed();
    setupMediaSession();
    if (!(await loadStream())) return;
    pollViewers();
    viewersTimer = setInterval(pollViewers, VIEWERS_MS);
    const again = async () => {
      if (await loadStream()) setTimeout(again, STREAM_MS);
    };
    setTimeout(again, STREAM_MS);
  }

  window.addEventListener('pagehide', () => { clearInterval(viewersTimer); });
  start();
})();
