// common.js — helpers shared by the Veza Live pages: strings, the REST API,
// DOM building (user text is only ever set as text, never as HTML), times.
'use strict';

const Veza = (() => {
  const langs = (navigator.languages || [navigator.language || 'en'])
    .map((l) => String(l).toLowerCase().split('-')[0]);
  const lang = langs.find((l) => window.VEZA_STRINGS[l]) || 'en';
  const table = window.VEZA_STRINGS[lang];
  const fallback = window.VEZA_STRINGS.en;

  function t(key, vars) {
    let s = table[key] !== undefined ? table[key] : fallback[key];
    if (s === undefined) return key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? String(vars[k]) : m));
    return s;
  }

  // data-i18n="key" sets the text; data-i18n-attr="placeholder:key;title:key"
  // sets attributes.
  function applyStrings(root) {
    root = root || document;
    document.documentElement.lang = lang;
    root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    root.querySelectorAll('[data-i18n-attr]').forEach((el) => {
      el.dataset.i18nAttr.split(';').forEach((pair) => {
        const [attr, key] = pair.split(':');
        if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
      });
    });
  }

  // h('a', {href: '/', class: 'x'}, 'text', child…)
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  const TOKEN_KEY = 'veza.token';
  const USER_KEY = 'veza.user';

  function getToken() {
    try { return localStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  function setSession(token, user) {
    try {
      if (token) {
        localStorage.setItem(TOKEN_KEY, token);
        localStorage.setItem(USER_KEY, JSON.stringify(user || null));
      } else {
        localStorage.removeItem(TOKEN_KEY);
        localStorage.removeItem(USER_KEY);
      }
    } catch (e) { /* storage disabled: the session lasts as long as the page */ }
  }

  function getUser() {
    try { return JSON.parse(localStorage.getItem(USER_KEY) || 'null'); } catch (e) { return null; }
  }

  async function api(method, path, body, opts) {
    const headers = { Accept: 'application/json' };
    const token = getToken();
    if (token && !(opts && opts.anonymous)) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch('/api/v1' + path, {
        method,
        headers,
        body: body !== undefined ? JSON.stringify(body) : undefined,
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (e) {
      throw new ApiError(0, 'network', t('error.network'));
    }
    if (res.status === 204) return null;
    let json = null;
    try { json = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok || !json || !json.success) {
      const err = (json && json.error) || {};
      throw new ApiError(res.status, err.code || 'internal', err.message || t('error.generic'));
    }
    return json.data;
  }

  // A random id per browser, so that presence counts one person once.
  function viewerId() {
    const KEY = 'veza.viewer-id';
    let id = null;
    try { id = localStorage.getItem(KEY); } catch (e) { /* storage disabled */ }
    if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
      const bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      try { localStorage.setItem(KEY, id); } catch (e) { /* storage disabled */ }
    }
    return id;
  }

  function pad(n) { return String(n).padStart(2, '0'); }

  // A duration in seconds, compact: "2d 3h 4m", "1h 02m 03s", "4m 05s", "9s".
  function formatDuration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const d = Math.floor(seconds / 86400);
    const hh = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    if (d > 0) return t('duration.dhms', { d, h: hh, m });
    if (hh > 0) return t('duration.hms', { h: hh, m: pad(m), s: pad(s) });
    if (m > 0) return t('duration.ms', { m, s: pad(s) });
    return t('duration.s', { s });
  }

  function formatDate(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return '';
    return d.toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' });
  }

  function countdownText(iso) {
    const left = (new Date(iso).getTime() - Date.now()) / 1000;
    return left > 0 ? t('starts.in', { time: formatDuration(left) }) : t('starts.now');
  }

  function viewersText(n) {
    return n === 1 ? t('viewers.one') : t('viewers', { n: Number(n || 0).toLocaleString(lang) });
  }

  function safeImageUrl(url) {
    if (!url) return null;
    try {
      const u = new URL(url, location.href);
      return (u.protocol === 'https:' || u.protocol === 'http:') ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  // A hue from a string (FNV-1a), for placeholder thumbnails and avatars.
  function hueOf(s) {
    let x = 0x811c9dc5;
    for (const c of String(s || '')) x = Math.imul(x ^ c.codePointAt(0), 0x01000193) >>> 0;
    return x % 360;
  }

  // Sets up the shared header once the DOM is there.
  function initPage() {
    applyStrings();
    const here = location.pathname;
    document.querySelectorAll('.site-nav a').forEach((a) => {
      if (a.getAttribute('href') === here) a.setAttribute('aria-current', 'page');
    });
  }

  return {
    t, applyStrings, h, api, ApiError, getToken, setSession, getUser, viewerId,
    formatDuration, formatDate, countdownText, viewersText, safeImageUrl, hueOf, initPage, lang,
  };
})();
