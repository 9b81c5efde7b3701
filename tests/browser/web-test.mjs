#!/usr/bin/env node
// web-test.mjs — the Veza Live pages in a real browser against a real vezad.
//
// Starts vezad ($VEZAD, with $VEZA_PLUGIN_PATH and $VEZA_WEB_DIR) on free
// ports with a private data dir, signs up and sets up a stream through the
// go-live page, publishes a generated clip with ffmpeg to the key the page
// reveals, watches it from the home page in headless Chromium, checks
// playback, the viewer count, the speed control and Media Session, then stops
// the publisher and plays the replay. Output is TAP; screenshots go to
// $G_TEST_BUILDDIR/web-test-screenshots/. Everything started here is stopped
// at the end, whatever happens.
//
// Skips (TAP "1..0 # SKIP") only when playwright-core is not installed: run
// `npm ci` in tests/browser first.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

let chromium;
try {
  ({ chromium } = require(path.join(HERE, 'node_modules', 'playwright-core')));
} catch (e) {
  console.log('1..0 # SKIP playwright-core is not installed (run `npm ci` in tests/browser)');
  process.exit(0);
}

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const VEZAD = process.env.VEZAD;
const SHOTS = path.join(process.env.G_TEST_BUILDDIR || process.cwd(), 'web-test-screenshots');
const HARD_LIMIT_S = 170;

/* ---- TAP ----------------------------------------------------------------- */

let n = 0;
let failures = 0;
function ok(cond, name, diag) {
  n++;
  if (!cond) failures++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${name}`);
  if (!cond && diag) for (const line of String(diag).split('\n')) console.log('# ' + line);
  return cond;
}
function note(text) {
  for (const line of String(text).split('\n')) console.log('# ' + line);
}

/* ---- processes ----------------------------------------------------------- */

const children = new Set();
let dataDir = null;
let vezadLog = '';

function startChild(cmd, args, opts) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => { clearTimeout(timer); resolve(true); });
  });
}

async function stopChild(child, signal, ms) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  if (!(await waitExit(child, ms))) {
    child.kill('SIGKILL');
    await waitExit(child, 5000);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, timeoutMs, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}` + (last instanceof Error ? `: ${last.message}` : ''));
}

async function startVezad() {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'veza-web-test-'));
  fs.chmodSync(dataDir, 0o755);
  const conf = path.join(dataDir, 'vezad.conf');
  // A short reconnect grace, so the replay is ready soon after the
  // publisher stops.
  fs.writeFileSync(conf, '[ingest]\nreconnect-grace=2\n');
  const child = startChild(VEZAD, ['--config', conf, '--data-dir', path.join(dataDir, 'data'),
    '--http-address', '127.0.0.1', '--http-port', '0',
    '--rtmp-address', '127.0.0.1', '--rtmp-port', '0'], { env: process.env });
  child.stdout.on('data', (d) => { vezadLog += d; });
  child.stderr.on('data', (d) => { vezadLog += d; });
  const found = await until('vezad to listen', () => {
    if (child.exitCode !== null) throw new Error('vezad exited: ' + vezadLog.slice(-2000));
    const http = /listening on (http:\/\/[^\s]+)/.exec(vezadLog);
    const rtmp = /listening on (rtmp:\/\/[^\s]+)/.exec(vezadLog);
    return http && rtmp ? { http: http[1].replace(/\/$/, ''), rtmp: rtmp[1].replace(/\/$/, '') } : null;
  }, 60000, 100);
  return { child, ...found };
}

function makeClip(file) {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440',
    '-t', '20', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '30',
    '-c:a', 'aac', '-f', 'flv', file], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error('ffmpeg could not make the clip: ' + (r.stderr || r.error));
}

async function apiCall(base, method, p, body, token) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(base + '/api/v1' + p, {
    method, headers, body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => null);
  if (!res.ok || !json || !json.success) {
    throw new Error(`${method} ${p}: ${res.status} ${json && json.error ? json.error.code : ''}`);
  }
  return json.data;
}

/* ---- the test ------------------------------------------------------------ */

let browser = null;
let publisher = null;
let vezad = null;

async function shot(page, name, fullPage) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, name), fullPage: !!fullPage });
}

async function videoState(page) {
  return page.evaluate(() => {
    const v = document.querySelector('video');
    return { t: v.currentTime, rate: v.playbackRate, paused: v.paused, ready: v.readyState };
  });
}

// Waits until the video has played `need` seconds of media.
async function playsFor(page, need, timeoutMs) {
  let start = null;
  let last = null;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    last = await videoState(page);
    if (start === null && last.t > 0 && !last.paused) start = last.t;
    if (start !== null && last.t - start >= need) return { ok: true, advanced: last.t - start, state: last };
    await sleep(250);
  }
  return { ok: false, advanced: start === null ? 0 : last.t - start, state: last };
}

async function run() {
  if (!VEZAD) throw new Error('VEZAD is not set');
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  fs.mkdirSync(SHOTS, { recursive: true });

  vezad = await startVezad();
  const base = vezad.http;
  note(`vezad at ${base}, RTMP at ${vezad.rtmp}`);
  const clip = path.join(dataDir, 'clip.flv');
  makeClip(clip);

  // Pages and static files, straight from the server.
  {
    const res = await fetch(base + '/');
    const csp = res.headers.get('content-security-policy') || '';
    ok(res.status === 200 && /text\/html/.test(res.headers.get('content-type')) &&
       res.headers.get('cache-control') === 'no-cache' &&
       res.headers.get('x-content-type-options') === 'nosniff' &&
       /worker-src[^;]*blob:/.test(csp) && /script-src 'self'/.test(csp) &&
       !!res.headers.get('referrer-policy'),
    'GET / is the home page with security headers', `status ${res.status} csp ${csp}`);
    const js = await fetch(base + '/static/vendor/hls.min.js');
    const again = await fetch(base + '/static/vendor/hls.min.js', { headers: { 'If-None-Match': js.headers.get('etag') || 'x' } });
    ok(again.status === 304, 'static files revalidate with their ETag', String(again.status));
    const bad = await Promise.all(['/static/..%2f..%2fetc%2fpasswd', '/static/go-live.html', '/static/STYLE.CSS',
      '/static/vendor/..%2fgo-live.html', '/static/x.exe', '/live/not-a-uuid'].map((p) => fetch(base + p)));
    ok(js.status === 200 && /javascript/.test(js.headers.get('content-type')) &&
       /max-age/.test(js.headers.get('cache-control')) &&
       bad.every((r) => r.status === 404 || r.status === 400),
    'static files are served from a whitelist only', bad.map((r) => r.status).join(' '));
  }

  // A second streamer with a scheduled stream, for the "Scheduled" shelf.
  const other = await apiCall(base, 'POST', '/auth/register', { username: 'planner', password: 'planner-pass-1', display_name: 'Planner' });
  const otherKey = await apiCall(base, 'GET', '/live/streams/me/key', undefined, other.token);
  const soon = new Date(Date.now() + (2 * 3600 + 5 * 60) * 1000).toISOString();
  await apiCall(base, 'PUT', `/live/streams/${otherKey.stream_id}`,
    { title: 'Friday night synth jam', category: 'Music', scheduled_at: soon }, other.token);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  note('browser ' + browser.version());
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'dark' });
  const pageErrors = [];
  context.on('page', (p) => {
    p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`));
    p.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`${p.url()}: console: ${m.text()}`); });
  });

  /* go-live: sign up, stream details, key */
  const studio = await context.newPage();
  await studio.goto(base + '/live/go-live', { waitUntil: 'load' });
  await studio.waitForSelector('#auth:not([hidden])', { timeout: 10000 });
  await shot(studio, 'go-live-signin.png');
  await studio.click('#tab-signup');
  await studio.fill('#auth-username', 'alice');
  await studio.fill('#auth-password', 'correct horse battery');
  await studio.fill('#auth-display', 'Alice Streams');
  await studio.click('#auth-submit');
  await studio.waitForSelector('#studio:not([hidden])', { timeout: 15000 });
  const signedIn = await studio.textContent('#signed-in-as');
  ok(/Alice Streams/.test(signedIn) && !!(await studio.evaluate(() => localStorage.getItem('veza.token'))),
    'sign up through the go-live page', signedIn);

  await studio.waitForFunction(() => document.getElementById('stream-key').value.length > 0, null, { timeout: 10000 });
  await studio.fill('#f-title', 'Test pattern marathon');
  await studio.fill('#f-description', 'Colour bars, a moving clock and a 440 Hz tone, all day long.');
  await studio.fill('#f-category', 'Science & Tech');
  await studio.fill('#f-tags', 'test, broadcast, #hls');
  await studio.click('#btn-save');
  await studio.waitForFunction(() => document.getElementById('stream-msg').textContent === 'Saved.', null, { timeout: 10000 });
  const mine = await apiCall(base, 'GET', '/live/streams/me', undefined,
    await studio.evaluate(() => localStorage.getItem('veza.token')));
  const streamId = mine.streams[0].id;
  ok(mine.streams[0].title === 'Test pattern marathon' && mine.streams[0].tags.join(',') === 'test,broadcast,hls',
    'the stream form updates the stream', JSON.stringify(mine.streams[0].tags));

  const masked = await studio.getAttribute('#stream-key', 'type');
  await shot(studio, 'go-live.png', true);
  await studio.click('#reveal-key');
  const key = await studio.inputValue('#stream-key');
  const revealed = await studio.getAttribute('#stream-key', 'type');
  const rtmpUrl = await studio.inputValue('#rtmp-url');
  ok(masked === 'password' && revealed === 'text' && key.length >= 16 && key === mine.streams[0].stream_key,
    'the stream key is masked and shown on reveal', `${masked} → ${revealed}`);
  ok(rtmpUrl === vezad.rtmp + '/live' || rtmpUrl === vezad.rtmp, 'the RTMP server URL is shown', rtmpUrl);
  await studio.click('#reveal-key');

  /* schedule, then go live now instead */
  const tomorrow = await studio.evaluate(() => {
    const d = new Date(Date.now() + 26 * 3600 * 1000);
    const p = (x) => String(x).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  });
  await studio.fill('#f-schedule', tomorrow);
  await studio.click('#btn-schedule');
  await studio.waitForFunction(() => /^Scheduled for/.test(document.getElementById('stream-msg').textContent), null, { timeout: 10000 });
  const token = await studio.evaluate(() => localStorage.getItem('veza.token'));
  const scheduled = (await apiCall(base, 'GET', `/live/streams/${streamId}`)).stream.scheduled_at;
  const badgeScheduled = await studio.waitForFunction(
    () => document.getElementById('status-badge').classList.contains('badge-scheduled'), null, { timeout: 10000 })
    .then(() => true, () => false);
  ok(!!scheduled && Math.abs(new Date(scheduled) - Date.now() - 26 * 3600 * 1000) < 120000 && badgeScheduled,
    '"Schedule Stream" sets scheduled_at', scheduled);

  /* go live: the page waits, ffmpeg publishes */
  await studio.click('#btn-go-live');
  await studio.waitForFunction(() => /Waiting/.test(document.getElementById('status-text').textContent), null, { timeout: 10000 });
  publisher = startChild('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1',
    '-i', clip, '-c', 'copy', '-f', 'flv', `${rtmpUrl}/${key}`]);
  let publisherLog = '';
  publisher.stderr.on('data', (d) => { publisherLog += d; });
  const liveShown = await studio.waitForFunction(
    () => document.getElementById('status-badge').classList.contains('badge-live'), null, { timeout: 30000 })
    .then(() => true, () => false);
  ok(liveShown, '"Go Live Now" shows the live status once OBS (ffmpeg) publishes', publisherLog.slice(-500));
  const afterGoLive = (await apiCall(base, 'GET', '/live/streams/me', undefined, token)).streams.find((s) => s.id === streamId);
  ok(afterGoLive && afterGoLive.scheduled_at === null && afterGoLive.is_live, '"Go Live Now" clears the schedule',
    JSON.stringify(afterGoLive && afterGoLive.scheduled_at));
  await shot(studio, 'go-live-live.png', true);
  await studio.close();

  /* home: the live card */
  const page = await context.newPage();
  const playlistUrls = [];
  page.on('request', (r) => { if (/\/live\.m3u8/.test(r.url())) playlistUrls.push(r.url()); });
  await page.goto(base + '/', { waitUntil: 'load' });
  const card = `#live-list a.card-link[href="/live/${streamId}"]`;
  const cardFound = await page.waitForSelector(card, { timeout: 30000 }).then(() => true, () => false);
  ok(cardFound, 'the home page lists the stream under "Live now"');
  const sched = await page.waitForSelector('#scheduled-list .badge-scheduled', { timeout: 10000 }).then(() => true, () => false);
  const countdown1 = sched ? await page.textContent('#scheduled-list .countdown') : '';
  /* It ticks every second; a loaded machine may delay a tick, so wait for
   * the change (bounded) rather than for a fixed time. */
  let countdown2 = countdown1;
  for (let i = 0; sched && i < 25 && countdown2 === countdown1; i++) {
    await sleep(200);
    countdown2 = await page.textContent('#scheduled-list .countdown');
  }
  ok(sched && /^Starts in 2h 0[45]m \d\ds$/.test(countdown1) && countdown1 !== countdown2,
    'scheduled streams show a "Scheduled" badge and a live countdown', `${countdown1} / ${countdown2}`);
  await shot(page, 'home.png', true);
  const light = await browser.newPage({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
  await light.goto(base + '/', { waitUntil: 'load' });
  await light.waitForSelector(card, { timeout: 10000 }).catch(() => {});
  await shot(light, 'home-light.png', true);
  await light.close();

  /* the live page */
  await page.click(card);
  await page.waitForURL(`**/live/${streamId}`);
  const played = await playsFor(page, 3, 30000);
  ok(played.ok, 'the live stream plays (currentTime advances ≥ 3 s within 30 s)',
    JSON.stringify(played) + '\n' + pageErrors.join('\n'));
  const badge = await page.textContent('#badge');
  ok(/live/i.test(badge), 'the live page shows the live badge', badge);
  const viewers = await page.waitForFunction(() => {
    const el = document.getElementById('viewers');
    return !el.hidden && Number(el.dataset.count || 0) >= 1 ? el.textContent : null;
  }, null, { timeout: 15000, polling: 500 }).then((h) => h.jsonValue(), () => null);
  ok(!!viewers, 'the viewer count shows at least 1', viewers);
  const viewerId = await page.evaluate(() => localStorage.getItem('veza.viewer-id'));
  ok(/^[0-9a-f]{32}$/.test(viewerId || '') && playlistUrls.length > 0 &&
     playlistUrls.every((u) => new URL(u).searchParams.get('viewer') === viewerId),
  'live playlist requests carry this browser\'s viewer id', playlistUrls.slice(0, 3).join('\n'));
  const title = await page.textContent('#stream-title');
  const meta = await page.textContent('#stream-meta');
  ok(title === 'Test pattern marathon' && /Alice Streams/.test(meta), 'title and streamer are shown', `${title} | ${meta}`);
  const session = await page.evaluate(() => {
    const m = navigator.mediaSession && navigator.mediaSession.metadata;
    return m ? { title: m.title, artist: m.artist } : null;
  });
  ok(session && session.title === 'Test pattern marathon' && session.artist === 'Alice Streams',
    'Media Session metadata names the stream and the streamer', JSON.stringify(session));
  const chatText = await page.textContent('.chat');
  ok(/coming soon/i.test(chatText), 'the chat panel says chat is coming', chatText.trim());

  // Speed: a slower speed applies live and survives a reload.
  await page.selectOption('#speed', '0.75');
  const rate1 = await page.evaluate(() => document.querySelector('video').playbackRate);
  ok(rate1 === 0.75, 'the speed control sets playbackRate', String(rate1));
  await shot(page, 'live.png');
  await page.reload({ waitUntil: 'load' });
  const replayed = await playsFor(page, 1, 20000);
  const after = await page.evaluate(() => ({
    rate: document.querySelector('video').playbackRate, select: document.getElementById('speed').value,
  }));
  ok(replayed.ok && after.rate === 0.75 && after.select === '0.75', 'the chosen speed persists across reloads', JSON.stringify(after));
  // Faster than real time is impossible at the live edge: 1x there.
  await page.evaluate(() => { const v = document.querySelector('video'); v.currentTime = v.currentTime + 60; });
  await sleep(1500);
  await page.selectOption('#speed', '2');
  await sleep(600);
  const edge = await page.evaluate(() => ({
    rate: document.querySelector('video').playbackRate, note: !document.getElementById('speed-note').hidden,
  }));
  ok(edge.rate === 1 && edge.note, 'at the live edge playback stays at 1x', JSON.stringify(edge));

  // Mobile layout of the live page.
  const mobile = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: 'dark' });
  await mobile.goto(`${base}/live/${streamId}`, { waitUntil: 'load' });
  await playsFor(mobile, 1, 15000);
  await shot(mobile, 'live-mobile.png', true);
  await mobile.close();

  /* the replay */
  await stopChild(publisher, 'SIGINT', 10000);
  const vod = await until('the replay', async () => {
    const s = (await apiCall(base, 'GET', `/live/streams/${streamId}`)).stream;
    return !s.is_live && s.is_vod ? s : null;
  }, 60000, 500).catch((e) => { note(e.message); return null; });
  ok(!!vod && /\/vod\.m3u8$/.test(vod.stream_url), 'the stream becomes a replay (vod.m3u8) after the publisher stops',
    vod && vod.stream_url);
  if (vod) {
    await page.goto(`${base}/live/${streamId}`, { waitUntil: 'load' });
    const vodPlay = await playsFor(page, 3, 30000);
    const vodState = await page.evaluate(() => ({
      badge: document.getElementById('badge').textContent, rate: document.querySelector('video').playbackRate,
      viewersHidden: document.getElementById('viewers').hidden,
    }));
    ok(vodPlay.ok && /replay/i.test(vodState.badge), 'the replay plays with a "Replay" badge',
      JSON.stringify({ vodPlay, vodState }) + '\n' + pageErrors.join('\n'));
    ok(vodState.rate === 2, 'the chosen 2x speed applies to the replay', JSON.stringify(vodState));
    await shot(page, 'replay.png');
    const home = await context.newPage();
    await home.goto(base + '/', { waitUntil: 'load' });
    const inReplays = await home.waitForSelector(`#replays-list a.card-link[href="/live/${streamId}"]`, { timeout: 10000 })
      .then(() => true, () => false);
    ok(inReplays, 'the home page lists the replay under "Replays"');
    await shot(home, 'home-replays.png', true);
    await home.close();
  }

  ok(pageErrors.length === 0, 'no script errors on the pages', pageErrors.join('\n'));
  note('screenshots in ' + SHOTS);
}

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  browser = null;
  await stopChild(publisher, 'SIGKILL', 5000);
  // vezad stops its embedded PostgreSQL on SIGTERM.
  if (vezad) {
    const child = vezad.child;
    vezad = null;
    await stopChild(child, 'SIGTERM', 30000);
    // Sanitizer builds report leaks and errors on the way out.
    ok(child.exitCode === 0 && !/Sanitizer|runtime error:/.test(vezadLog), 'vezad stops cleanly on SIGTERM',
      `exit ${child.exitCode} ${child.signalCode || ''}\n` + vezadLog.slice(-3000));
  }
  for (const child of children) await stopChild(child, 'SIGKILL', 5000);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = null;
}

const hardStop = setTimeout(async () => {
  ok(false, `the test finished within ${HARD_LIMIT_S} s`);
  await cleanup().catch(() => {});
  console.log(`1..${n}`);
  process.exit(1);
}, HARD_LIMIT_S * 1000);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await cleanup().catch(() => {});
    process.exit(1);
  });
}

try {
  await run();
} catch (e) {
  ok(false, 'the browser test ran to the end', (e && e.stack) || String(e));
  if (vezadLog) note('vezad log (tail):\n' + vezadLog.slice(-3000));
} finally {
  await cleanup().catch((e) => note('cleanup: ' + e));
  clearTimeout(hardStop);
}
console.log(`1..${n}`);
process.exit(failures ? 1 : 0);
