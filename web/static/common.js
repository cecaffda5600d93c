'use strict';
// Shared by the dashboard pages: reads of the data endpoints with the
// optional bearer token, the live event stream, number formats and the
// palette. Everything from the server or the URL is shown with textContent,
// never as markup.
const PA = (() => {
  const TOKEN_KEY = 'pingapi.token';
  // The dashboard's root URL path, whatever prefix a proxy adds.
  const root = (() => {
    const p = location.pathname;
    return p.slice(0, p.lastIndexOf('/dashboard/') + '/dashboard/'.length);
  })();
  const $ = (id) => document.getElementById(id);

  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
  // A JWT (three dot-separated parts) goes as a bearer token, anything
  // else as an archive key (esmond's "Token" scheme).
  function headers(accept) {
    const h = { Accept: accept };
    const t = token();
    if (t) h.Authorization = (t.split('.').length === 3 ? 'Bearer ' : 'Token ') + t;
    return h;
  }

  // askToken shows the token form and resolves once one is entered.
  let asking = null;
  function askToken(why) {
    if (asking) return asking;
    const form = $('auth'), input = $('auth-token');
    $('auth-error').textContent = why || '';
    form.hidden = false;
    input.focus();
    asking = new Promise((resolve) => {
      form.addEventListener('submit', function done(ev) {
        ev.preventDefault();
        const v = input.value.trim().replace(/^(Bearer|Token)\s+/i, '');
        if (!v) return;
        sessionStorage.setItem(TOKEN_KEY, v);
        input.value = '';
        form.hidden = true;
        form.removeEventListener('submit', done);
        asking = null;
        resolve();
      });
    });
    return asking;
  }

  // errorText returns the message of the API's error envelope.
  async function errorText(r) {
    try {
      const j = await r.json();
      if (j && j.error && j.error.message) return j.error.message;
    } catch (_) { /* not JSON */ }
    return 'HTTP ' + r.status;
  }

  // fetchAuth fetches url with the token, asking for one on 401/403 (and
  // before the first request when the server says reads need one).
  async function fetchAuth(url, accept, opts, needed) {
    if (needed && !token()) await askToken('');
    for (;;) {
      const r = await fetch(url, Object.assign({ headers: headers(accept), cache: 'no-store' }, opts || {}));
      if (r.status !== 401 && r.status !== 403) return r;
      const msg = await errorText(r);
      sessionStorage.removeItem(TOKEN_KEY);
      await askToken(msg);
    }
  }

  // getJSON reads a data endpoint under /dashboard/api/.
  async function getJSON(path) {
    const r = await fetchAuth(root + 'api/' + path, 'application/json', null, (await config()).auth === 'token');
    if (!r.ok) throw new Error(await errorText(r));
    return r.json();
  }

  // config says whether the data need a token: from the page itself (the
  // server writes it into a meta element), else from api/config.
  let cfg = null;
  async function config() {
    const meta = document.querySelector('meta[name="pingapi-auth"]');
    if (!cfg && meta && meta.content) cfg = { auth: meta.content };
    if (!cfg) cfg = await (await fetch(root + 'api/config', { cache: 'no-store' })).json();
    return cfg;
  }

  // records calls fn with each record of a streamed response body, records
  // ending with sep ('\n' for NDJSON, '\n\n' for Server-Sent Events), as
  // they arrive.
  async function records(r, sep, fn) {
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let i;
      while ((i = buf.indexOf(sep)) >= 0) {
        const rec = buf.slice(0, i);
        buf = buf.slice(i + sep.length);
        fn(rec);
      }
    }
  }

  // events reads the Server-Sent Events of path until signal aborts,
  // reconnecting after each end; on(name, data) gets every event. fetch
  // rather than EventSource, so the token travels in a header.
  async function events(path, on, signal) {
    while (!signal.aborted) {
      try {
        const r = await fetchAuth(root + 'api/' + path, 'text/event-stream', { signal }, (await config()).auth === 'token');
        if (!r.ok) throw new Error(await errorText(r));
        await records(r, '\n\n', (block) => {
          let name = 'message', data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) name = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) on(name, JSON.parse(data));
        });
      } catch (e) {
        if (signal.aborted) return;
      }
      await new Promise((res) => setTimeout(res, 2000));
    }
  }

  function showError(e) {
    const el = $('error');
    el.textContent = e ? String(e.message || e) : '';
    el.hidden = !e;
  }

  // Formats: ms with 3 significant digits, percent, '–' for no data.
  function ms(v) {
    if (v == null || Number.isNaN(v)) return '–';
    if (v < 1) return v.toFixed(3) + ' ms';
    if (v < 10) return v.toFixed(2) + ' ms';
    if (v < 100) return v.toFixed(1) + ' ms';
    return Math.round(v) + ' ms';
  }
  function pct(v) {
    if (v == null || Number.isNaN(v)) return '–';
    return (v === 0 || v === 100 ? v.toFixed(0) : v.toFixed(1)) + ' %';
  }

  // css reads a colour of the current theme.
  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  // lossClass maps a loss percent to a palette step (0 … 5), as in the legend.
  function lossClass(l) {
    if (l == null || Number.isNaN(l) || l <= 0) return 0;
    if (l <= 5) return 1;
    if (l <= 20) return 2;
    if (l <= 50) return 3;
    if (l < 100) return 4;
    return 5;
  }
  const lossLabels = ['0 %', '≤ 5 %', '≤ 20 %', '≤ 50 %', '< 100 %', '100 %'];

  // viridis(x), x in [0, 1]: a perceptually uniform, colour-blind-safe ramp.
  const VIR = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function viridis(x) {
    x = Math.min(1, Math.max(0, x)) * (VIR.length - 1);
    const i = Math.min(VIR.length - 2, Math.floor(x)), f = x - i, a = VIR[i], b = VIR[i + 1];
    return 'rgb(' + [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)).join(',') + ')';
  }

  // el builds an element with text content and attributes.
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  // onTheme calls fn when the system switches between light and dark.
  function onTheme(fn) { matchMedia('(prefers-color-scheme: dark)').addEventListener('change', fn); }

  return { root, $, el, getJSON, config, events, records, fetchAuth, errorText, askToken, showError, ms, pct, css, lossClass, lossLabels, viridis, onTheme };
})();
