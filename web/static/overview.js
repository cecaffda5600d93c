'use strict';
// The overview: every monitored host in a sortable, filterable table that
// renders only the rows in view (10,000 hosts stay fast), and the fleet's
// host × hour heatmap, aggregated by the server to about one row per pixel.
(() => {
  const { $, el } = PA;
  const ROW_H = 34, OVERSCAN = 12;
  let hosts = [];      // {name, status, rtt, loss, jitter, med[], lossh[]}
  let shown = [];      // hosts after filter and sort
  let byName = new Map();
  let sortKey = 'name', sortDir = 1, filter = '';
  let first = 0, nHours = 24;
  let metric = 'rtt';
  const wrap = $('tablewrap'), tbody = document.querySelector('#hosts tbody');
  const statusOrder = { dead: 0, collecting: 1, alive: 2 };

  // row decodes ["name","status",rtt,loss,jitter,lo,hi,[spark],losses]:
  // spark codes 0…99 place each hour's median between lo and hi (-1: no
  // data); losses is 0 when no hour lost anything.
  function row(a) {
    const lo = a[5], hi = a[6];
    const med = (a[7] || []).map((c) => (c < 0 || lo == null ? null : lo + (hi - lo) * c / 99));
    return { name: a[0], status: a[1], rtt: a[2], loss: a[3], jitter: a[4], med, lossh: Array.isArray(a[8]) ? a[8] : [],
      kind: a[9] || 'icmp', address: a[10] || '', mode: a[11] || '', archive: a[12] || '' };
  }

  function cmp(a, b) {
    let x = a[sortKey], y = b[sortKey];
    if (sortKey === 'status') { x = statusOrder[x]; y = statusOrder[y]; }
    if (sortKey !== 'name' && sortKey !== 'status') { // no data sorts last
      if (x == null && y == null) return a.name < b.name ? -1 : 1;
      if (x == null) return 1;
      if (y == null) return -1;
    }
    if (x < y) return -sortDir;
    if (x > y) return sortDir;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  }

  function apply() {
    const f = filter.toLowerCase();
    shown = f ? hosts.filter((h) => h.name.toLowerCase().includes(f) || h.status === f || h.kind === f) : hosts.slice();
    shown.sort(cmp);
    render(true);
    summary();
  }

  function summary() {
    const n = { alive: 0, dead: 0, collecting: 0 };
    for (const h of hosts) n[h.status]++;
    $('summary').textContent = hosts.length + ' hosts: ' + n.alive + ' alive, ' + n.dead + ' dead, ' + n.collecting +
      ' collecting' + (shown.length !== hosts.length ? '; ' + shown.length + ' shown' : '');
  }

  // render draws the rows in view between two spacer rows.
  function render(force) {
    const top = wrap.scrollTop, h = wrap.clientHeight || 600;
    const start = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const end = Math.min(shown.length, Math.ceil((top + h) / ROW_H) + OVERSCAN);
    if (!force && start === render.start && end === render.end) return;
    render.start = start; render.end = end;
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.name : null;
    const frag = document.createDocumentFragment();
    const spacer = (n) => {
      const tr = el('tr', { class: 'spacer', 'aria-hidden': 'true' });
      const td = el('td', { colspan: '6' });
      tr.appendChild(td);
      tr.style.height = (n * ROW_H) + 'px';
      return tr;
    };
    frag.appendChild(spacer(start));
    const sparks = [];
    for (let i = start; i < end; i++) {
      const hst = shown[i];
      const tr = el('tr', { 'aria-rowindex': String(i + 2) });
      const tdn = el('td', { class: 'name', title: hst.name });
      if (hst.kind === 'tcp') {
        // A TCP echo client: its history page is named by its archive name.
        tdn.title = 'TCP echo client (' + hst.mode + ') from ' + hst.address;
        tdn.appendChild(el('span', { class: 'tag' }, 'TCP'));
        tdn.appendChild(el('a', { class: 'tcp', href: 'client/' + encodeURIComponent(hst.archive || hst.name), 'data-name': hst.name, 'data-i': String(i) }, hst.name));
      } else {
        tdn.appendChild(el('a', { href: 'host/' + encodeURIComponent(hst.name), 'data-name': hst.name, 'data-i': String(i) }, hst.name));
      }
      tr.appendChild(tdn);
      const tds = el('td', { class: 'status' });
      tds.appendChild(el('span', { class: 'badge ' + hst.status }, hst.status));
      tr.appendChild(tds);
      tr.appendChild(el('td', { class: 'num rtt' }, PA.ms(hst.rtt)));
      tr.appendChild(el('td', { class: 'num loss' }, PA.pct(hst.loss)));
      tr.appendChild(el('td', { class: 'num jitter' }, PA.ms(hst.jitter)));
      const tdc = el('td', { class: 'spark' });
      const cv = el('canvas', { 'aria-hidden': 'true' });
      tdc.appendChild(cv);
      tr.appendChild(tdc);
      frag.appendChild(tr);
      sparks.push([cv, hst]);
    }
    frag.appendChild(spacer(shown.length - end));
    tbody.replaceChildren(frag);
    for (const [cv, hst] of sparks) spark(cv, hst);
    if (focused) {
      const a = tbody.querySelector('[data-i][data-name="' + CSS.escape(focused) + '"]');
      if (a) a.focus({ preventScroll: true });
    }
  }

  // spark draws 24 hourly medians, at the device's pixel ratio; hours
  // with loss get a mark below in the loss colour.
  function spark(cv, h) {
    const dpr = window.devicePixelRatio || 1, w = 140, ht = 24;
    cv.width = w * dpr; cv.height = ht * dpr;
    const g = cv.getContext('2d');
    g.scale(dpr, dpr);
    const vals = h.med.filter((v) => v != null);
    if (!vals.length) return;
    const lo = Math.min(...vals), hi = Math.max(...vals), span = hi - lo || 1;
    const x = (i) => 2 + i * (w - 4) / (nHours - 1), y = (v) => ht - 5 - (v - lo) / span * (ht - 8);
    g.lineWidth = 1.5;
    g.strokeStyle = PA.css('--med');
    g.beginPath();
    h.med.forEach((v, i) => {
      if (v == null) return;
      const prev = i > 0 ? h.med[i - 1] : null, next = i + 1 < h.med.length ? h.med[i + 1] : null;
      if (prev != null) g.lineTo(x(i), y(v)); else g.moveTo(x(i), y(v));
      if (prev == null && next == null) g.arc(x(i), y(v), 1.5, 0, 2 * Math.PI); // a lone hour: a dot
    });
    g.stroke();
    h.lossh.forEach((l, i) => {
      if (l > 0) { g.fillStyle = PA.css('--l' + PA.lossClass(l)); g.fillRect(x(i) - 2, ht - 3, 4, 3); }
    });
  }

  // Sorting: header buttons, aria-sort for screen readers.
  for (const th of document.querySelectorAll('#hosts th[data-key]')) {
    th.querySelector('button').addEventListener('click', () => {
      const k = th.dataset.key;
      sortDir = sortKey === k ? -sortDir : 1;
      sortKey = k;
      for (const o of document.querySelectorAll('#hosts th[data-key]')) o.setAttribute('aria-sort', 'none');
      th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      apply();
    });
  }
  $('filter').addEventListener('input', (e) => { filter = e.target.value.trim(); wrap.scrollTop = 0; apply(); });
  wrap.addEventListener('scroll', () => requestAnimationFrame(() => render(false)), { passive: true });
  window.addEventListener('resize', () => { render(true); heatmap.draw(); });

  // Keyboard: arrows, Page Up/Down, Home and End move between host links.
  tbody.addEventListener('keydown', (e) => {
    const a = e.target.closest('[data-i]');
    if (!a) return;
    const i = Number(a.dataset.i), page = Math.max(1, Math.floor(wrap.clientHeight / ROW_H) - 1);
    const to = { ArrowDown: i + 1, ArrowUp: i - 1, PageDown: i + page, PageUp: i - page, Home: 0, End: shown.length - 1 }[e.key];
    if (to == null) return;
    e.preventDefault();
    focusRow(Math.max(0, Math.min(shown.length - 1, to)));
  });
  function focusRow(i) {
    const top = i * ROW_H, view = wrap.clientHeight - ROW_H; // header row
    if (top < wrap.scrollTop) wrap.scrollTop = top;
    else if (top > wrap.scrollTop + view - ROW_H) wrap.scrollTop = top - view + ROW_H;
    render(true);
    const a = tbody.querySelector('[data-i="' + i + '"]');
    if (a) a.focus({ preventScroll: true });
  }

  // The heatmap: rows × hours from the server, drawn one rectangle per cell.
  const heatmap = {
    data: null,
    async load() {
      const cv = $('heatmap');
      const rows = Math.max(20, Math.round(cv.clientHeight || 320));
      this.data = await PA.getJSON('heatmap?metric=' + metric + '&rows=' + rows);
      this.draw();
      performance.mark('pingapi:heatmap-drawn');
      document.body.dataset.heatmap = 'drawn';
    },
    draw() {
      const d = this.data, cv = $('heatmap');
      if (!d) return;
      const dpr = window.devicePixelRatio || 1, w = cv.clientWidth, h = cv.clientHeight;
      cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr);
      const g = cv.getContext('2d');
      g.scale(dpr, dpr);
      g.clearRect(0, 0, w, h);
      const nrows = d.names.length, labelW = 0, cw = (w - labelW) / d.hours, rh = h / Math.max(1, nrows);
      let hi = 0;
      for (const v of d.v) if (v != null && v > hi) hi = v;
      const scale = d.metric === 'loss' ? (v) => v / 100 : (v) => (hi > 0 ? Math.log1p(v) / Math.log1p(hi) : 0);
      for (let r = 0; r < nrows; r++) {
        for (let c = 0; c < d.hours; c++) {
          const v = d.v[r * d.hours + c];
          if (v == null) continue;
          g.fillStyle = PA.viridis(scale(v));
          g.fillRect(labelW + c * cw, r * rh, Math.ceil(cw), Math.ceil(rh));
        }
      }
      const legend = $('heatlegend');
      legend.replaceChildren(
        el('span', null, d.metric === 'loss' ? '0 %' : '0 ms'), el('span', { class: 'ramp' }),
        el('span', null, d.metric === 'loss' ? '100 %' : PA.ms(hi) + ' (log scale)'),
        el('span', null, d.hosts + ' hosts, ' + d.per_row + ' per row (worst shown); columns: hours, oldest left'));
    },
  };
  $('heatmap').addEventListener('mousemove', (e) => {
    const d = heatmap.data, cv = e.target;
    if (!d || !d.names.length) return;
    const r = Math.min(d.names.length - 1, Math.floor(e.offsetY / (cv.clientHeight / d.names.length)));
    const c = Math.min(d.hours - 1, Math.floor(e.offsetX / (cv.clientWidth / d.hours)));
    const v = d.v[r * d.hours + c];
    const t = new Date((d.first + c * 3600) * 1000);
    $('heatinfo').textContent = (d.per_row > 1 ? 'from ' : '') + d.names[r] + ', ' + t.toLocaleString([], { hour: '2-digit', minute: '2-digit', day: 'numeric', month: 'short' }) +
      ': ' + (d.metric === 'loss' ? PA.pct(v) : PA.ms(v));
  });
  for (const b of document.querySelectorAll('[data-metric]')) {
    b.addEventListener('click', () => {
      metric = b.dataset.metric;
      for (const o of document.querySelectorAll('[data-metric]')) o.setAttribute('aria-pressed', String(o === b));
      heatmap.load().catch(PA.showError);
    });
  }
  PA.onTheme(() => { render(true); heatmap.draw(); });

  // Live: a "host" event replaces the row's current figures.
  function live() {
    const ctl = new AbortController();
    window.addEventListener('pagehide', () => ctl.abort());
    PA.events('events', (name, a) => {
      if (name !== 'host') return;
      const h = byName.get(a[0]);
      if (!h) return;
      h.status = a[1]; h.loss = a[3]; h.jitter = a[4];
      if (a[2] != null) h.rtt = a[2];
      document.body.dataset.liveUpdates = String(Number(document.body.dataset.liveUpdates || 0) + 1);
      clearTimeout(live.t);
      live.t = setTimeout(() => { summary(); render(true); }, 250);
    }, ctl.signal);
  }

  // refresh reloads the sparklines and the heatmap (the server caches them
  // for 30 s); the current figures come with the live events.
  async function refresh() {
    try {
      const d = await PA.getJSON('hosts');
      first = d.first; nHours = d.hours;
      hosts = d.hosts.map(row);
      byName = new Map(hosts.map((h) => [h.name, h]));
      apply();
      await heatmap.load();
      if (d.complete && heatmap.data.complete) document.body.dataset.history = 'complete';
      else setTimeout(refresh, 2000); // the server is still reading the history
      PA.showError(null);
    } catch (e) {
      PA.showError(e);
    }
  }

  async function main() {
    try {
      await PA.config();
      const d = await PA.getJSON('hosts');
      first = d.first; nHours = d.hours;
      hosts = d.hosts.map(row);
      byName = new Map(hosts.map((h) => [h.name, h]));
      apply();
      performance.mark('pingapi:table-drawn');
      document.body.dataset.table = 'drawn';
      live();
      await heatmap.load();
      setInterval(refresh, 60000);
      if (!d.complete || !heatmap.data.complete) setTimeout(refresh, 2000);
      else document.body.dataset.history = 'complete';
    } catch (e) {
      PA.showError(e);
    }
  }
  main();
})();
