'use strict';
// One host over time: the range (1 h … 1 y, custom, or a zoom) lives in the
// URL, so a view can be shared; the server aggregates to about one point per
// pixel; live points are appended without touching the zoom; and a
// measurement can be run from the page, drawn echo by echo.
(() => {
  const { $, el } = PA;
  const PRESETS = { '1h': 3600, '6h': 6 * 3600, '24h': 86400, '7d': 7 * 86400, '30d': 30 * 86400, '1y': 365 * 86400 };
  // The same page draws a TCP echo client (/dashboard/client/{name}) from
  // its archived windows: no live events, no on-demand measurement.
  const client = !location.pathname.includes('/host/');
  const kind = client ? 'client' : 'host';
  const name = decodeURIComponent(location.pathname.slice(location.pathname.lastIndexOf('/' + kind + '/') + kind.length + 2));
  let view = null;   // {live, range, from, to}
  let doc = null;    // the series document drawn
  let chart = null;
  let loadSeq = 0;

  $('hostname').textContent = name;
  document.title = name + ' – pingapi';

  // readURL returns the view the URL asks for: ?range=24h (follows now) or
  // ?from=&to= (Unix seconds, fixed).
  function readURL() {
    const q = new URLSearchParams(location.search);
    const from = Number(q.get('from')), to = Number(q.get('to'));
    if (from > 0 && to > from) return { live: false, range: null, from, to };
    const range = PRESETS[q.get('range')] ? q.get('range') : '24h';
    const now = Math.floor(Date.now() / 1000);
    return { live: true, range, from: now - PRESETS[range], to: now };
  }

  function writeURL(v, push) {
    const q = new URLSearchParams();
    if (v.live) q.set('range', v.range); else { q.set('from', String(v.from)); q.set('to', String(v.to)); }
    const url = location.pathname + '?' + q.toString();
    if (push) history.pushState(null, '', url); else history.replaceState(null, '', url);
  }

  function size() {
    const box = $('chart');
    const w = Math.max(280, box.clientWidth - 2);
    return { width: w, height: w < 640 ? 240 : 320 };
  }

  function markRanges() {
    for (const b of document.querySelectorAll('[data-range]')) b.setAttribute('aria-pressed', String(view.live && b.dataset.range === view.range));
    const fmt = (t) => { const d = new Date(t * 1000); d.setMinutes(d.getMinutes() - d.getTimezoneOffset()); return d.toISOString().slice(0, 16); };
    $('from').value = fmt(view.from);
    $('to').value = fmt(view.to);
  }

  async function load() {
    const seq = ++loadSeq;
    markRanges();
    const sz = size();
    const d = await PA.getJSON(kind + '/' + encodeURIComponent(name) + '/series?from=' + view.from + '&to=' + view.to + '&width=' + sz.width);
    if (seq !== loadSeq) return; // a newer view was asked for meanwhile
    doc = d;
    if (!chart) {
      chart = RTTChart.make($('chart'), d, { width: sz.width, height: sz.height, onZoom: zoomTo });
    } else {
      RTTChart.set(chart, d, false);
    }
    chart.setScale('x', { min: view.from, max: view.to });
    const pts = d.t.filter((_, i) => d.p50[i] != null || d.loss[i] != null).length;
    $('chartinfo').textContent = pts ? pts + ' points, ' + ({ raw: 'from each measurement', hour: 'hourly statistics', day: 'daily statistics', window: 'from the archived windows' }[d.resolution]) +
      (d.resolution !== 'hour' && d.resolution !== 'day' && d.step > 1 ? ' (bucketed by ' + d.step + ' s)' : '') : 'No data in this range.';
    document.body.dataset.points = String(pts);
    if (!document.body.dataset.chart) {
      performance.mark('pingapi:chart-drawn');
      document.body.dataset.chart = 'drawn';
    }
  }

  function show(v, push) {
    view = v;
    writeURL(v, push);
    load().catch(PA.showError);
  }
  function zoomTo(from, to) {
    if (to - from < 10) { const c = (from + to) / 2; from = Math.floor(c - 5); to = Math.ceil(c + 5); }
    show({ live: false, range: null, from, to }, true);
  }

  for (const b of document.querySelectorAll('[data-range]')) {
    b.addEventListener('click', () => {
      const now = Math.floor(Date.now() / 1000), r = b.dataset.range;
      show({ live: true, range: r, from: now - PRESETS[r], to: now }, true);
    });
  }
  $('custom').addEventListener('submit', (e) => {
    e.preventDefault();
    const from = Math.floor(new Date($('from').value).getTime() / 1000), to = Math.floor(new Date($('to').value).getTime() / 1000);
    if (from > 0 && to > from) zoomTo(from, to); else PA.showError('Choose a start before the end.');
  });
  window.addEventListener('popstate', () => { view = readURL(); load().catch(PA.showError); });

  // Keyboard on the chart: arrows pan by a quarter, + and - zoom by two.
  $('chart').addEventListener('keydown', (e) => {
    const span = view.to - view.from, c = (view.from + view.to) / 2;
    const k = { ArrowLeft: [-span / 4, 1], ArrowRight: [span / 4, 1], '+': [0, 0.5], '=': [0, 0.5], '-': [0, 2], _: [0, 2] }[e.key];
    if (!k) return;
    e.preventDefault();
    const half = span * k[1] / 2;
    zoomTo(Math.floor(c + k[0] - half), Math.ceil(c + k[0] + half));
  });

  new ResizeObserver(() => { if (chart) { const s = size(); chart.setSize(s); } }).observe($('chart'));
  PA.onTheme(() => {
    if (!chart || !doc) return;
    chart.destroy();
    const sz = size();
    chart = RTTChart.make($('chart'), doc, { width: sz.width, height: sz.height, onZoom: zoomTo });
    chart.setScale('x', { min: view.from, max: view.to });
  });

  // Live: new measurements are appended; a preset range slides with now,
  // a zoom stays where it is.
  function onPoint(p) {
    if (!doc || doc.resolution !== 'raw') return;
    if (doc.t.length && p.t <= doc.t[doc.t.length - 1]) return;
    for (const k of ['t', 'p5', 'p25', 'p50', 'p75', 'p95', 'loss', 'jitter', 'fail']) doc[k].push(p[k]);
    if (view.live) {
      const now = Math.max(Math.floor(Date.now() / 1000), p.t);
      view.from = now - PRESETS[view.range]; view.to = now;
    }
    const min = chart.scales.x.min, max = chart.scales.x.max;
    RTTChart.set(chart, doc, true);
    if (view.live) chart.setScale('x', { min: view.from, max: view.to }); else chart.setScale('x', { min, max });
    document.body.dataset.liveUpdates = String(Number(document.body.dataset.liveUpdates || 0) + 1);
  }
  function onHost(a) {
    const st = $('status');
    st.textContent = a[1];
    st.className = 'badge ' + a[1];
    $('summary').textContent = 'Last probe: RTT ' + PA.ms(a[2]) + ', loss ' + PA.pct(a[3]) + ', jitter ' + PA.ms(a[4]);
    document.body.dataset.status = a[1];
  }
  function live() {
    const ctl = new AbortController();
    window.addEventListener('pagehide', () => ctl.abort());
    PA.events('events?host=' + encodeURIComponent(name), (ev, data) => {
      if (ev === 'point') onPoint(data);
      else if (ev === 'host') onHost(data);
    }, ctl.signal);
  }

  // Measure now: GET /pingapi/{name}?c=N as NDJSON, one point per echo.
  let mchart = null;
  $('measure').addEventListener('submit', async (e) => {
    e.preventDefault();
    const c = Math.max(1, Math.min(59, Number($('count').value) || 10));
    const btn = e.target.querySelector('button');
    btn.disabled = true;
    const xs = [], ys = [];
    let lost = 0;
    const draw = () => {
      const w = Math.max(280, $('mchart').clientWidth - 2);
      if (!mchart) {
        mchart = new uPlot({
          width: w, height: 180, legend: { show: false }, cursor: { show: false },
          scales: { x: { time: false, range: [0, Math.max(1, c - 1)] }, y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.2 : 1] } },
          axes: [Object.assign({ label: 'echo' }, { stroke: PA.css('--axis'), grid: { stroke: PA.css('--grid') } }),
            Object.assign({ label: 'RTT (ms)', size: 56 }, { stroke: PA.css('--axis'), grid: { stroke: PA.css('--grid') } })],
          series: [{}, { stroke: PA.css('--med'), width: 2, points: { show: true, size: 6, fill: PA.css('--med') } }],
        }, [xs, ys], $('mchart'));
      } else {
        mchart.setScale('x', { min: 0, max: Math.max(1, c - 1) });
        mchart.setData([xs, ys], false);
      }
    };
    if (mchart) { mchart.destroy(); mchart = null; }
    $('mchart').hidden = false;
    draw();
    $('minfo').textContent = 'Measuring ' + name + ', ' + c + ' echoes…';
    try {
      const url = PA.root.slice(0, -'dashboard/'.length) + 'pingapi/' + encodeURIComponent(name) + '?c=' + c;
      const r = await PA.fetchAuth(url, 'application/x-ndjson', null, true); // /pingapi always needs a token
      if (!r.ok) throw new Error(await PA.errorText(r));
      await PA.records(r, '\n', (rec) => {
        const line = rec.trim();
        if (!line) return;
        const m = JSON.parse(line);
        if (m.type === 'packet') {
          xs.push(m.seq); ys.push(m.rtt);
          if (m.rtt == null) lost++;
          draw();
          $('minfo').textContent = 'Echo ' + (m.seq + 1) + ' of ' + c + ': ' + (m.rtt == null ? 'lost' : PA.ms(m.rtt)) + (lost ? ' (' + lost + ' lost so far)' : '');
          document.body.dataset.echoes = String(xs.length);
        } else if (m.type === 'summary') {
          $('minfo').textContent = 'Done: ' + m.count_received + ' of ' + m.count_sent + ' replies, loss ' + PA.pct(m.packet_loss) +
            ', RTT min/mean/max ' + PA.ms(m.rtt_min) + ' / ' + PA.ms(m.rtt_mean) + ' / ' + PA.ms(m.rtt_max) + ', jitter ' + PA.ms(m.jitter);
        } else if (m.type === 'error') {
          throw new Error(m.error.message);
        }
      });
    } catch (err) {
      $('minfo').textContent = 'Measurement failed: ' + (err.message || err);
    } finally {
      btn.disabled = false;
    }
  });

  async function main() {
    RTTChart.legend($('legend'), client);
    if (client) {
      document.body.dataset.page = 'client';
      $('status').textContent = 'TCP echo';
      $('summary').textContent = 'A TCP echo client: RTT and loss of its echoes, and the kernel\'s RTT estimate, per archived window.';
      $('m-h').closest('section').hidden = true;
      document.title = name + ' (TCP echo) – pingapi';
    }
    view = readURL();
    writeURL(view, false);
    try {
      await PA.config();
      await load();
      if (!client) live();
    } catch (e) {
      PA.showError(e);
    }
  }
  main();
})();
