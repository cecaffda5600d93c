'use strict';
// The host chart on uPlot: RTT distribution as bands (p5–p95, p25–p75), the
// median coloured by the loss of its point, loss as bars on a right-hand
// axis, jitter as its own line, gaps where the server sent null, and
// failures marked along the top. uPlot draws at the device pixel ratio.
const RTTChart = (() => {
  // Column indexes of the data uPlot gets.
  const T = 0, P5 = 1, P25 = 2, P50 = 3, P75 = 4, P95 = 5, LOSS = 6, JIT = 7;

  // toData turns the series document into uPlot's columns (and keeps fail);
  // a TCP echo client's document adds the kernel's RTT as a ninth column.
  function toData(d) {
    const cols = [d.t, d.p5, d.p25, d.p50, d.p75, d.p95, d.loss, d.jitter];
    if (d.kernel) cols.push(d.kernel);
    return { cols, fail: d.fail };
  }

  function axisStyle() {
    return { stroke: PA.css('--axis'), grid: { stroke: PA.css('--grid'), width: 1 }, ticks: { stroke: PA.css('--grid'), width: 1 } };
  }

  // drawMedian strokes the median point to point, each segment in the
  // colour of the loss at its end (the legend's six steps).
  function drawMedian(u, fail) {
    const g = u.ctx, i0 = 0, i1 = u.data[0].length - 1;
    const t = u.data[T], m = u.data[P50], l = u.data[LOSS];
    const colors = [0, 1, 2, 3, 4, 5].map((k) => PA.css('--l' + k));
    const dpr = uPlot.pxRatio;
    g.save();
    g.beginPath();
    g.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    g.clip();
    g.setLineDash([]); // the jitter series leaves its dash set
    g.lineWidth = 2 * dpr;
    g.lineJoin = 'round';
    let prev = null;
    for (let i = i0; i <= i1; i++) {
      if (m[i] == null) { prev = null; continue; }
      const x = u.valToPos(t[i], 'x', true), y = u.valToPos(m[i], 'ms', true);
      g.strokeStyle = colors[PA.lossClass(l[i])];
      g.fillStyle = g.strokeStyle;
      if (prev) {
        g.beginPath();
        g.moveTo(prev[0], prev[1]);
        g.lineTo(x, y);
        g.stroke();
      } else {
        g.fillRect(x - dpr, y - dpr, 2 * dpr, 2 * dpr);
      }
      prev = [x, y];
    }
    // Failures: a triangle at the top, above the point.
    g.fillStyle = PA.css('--fail');
    for (let i = i0; i <= i1; i++) {
      if (!fail || !fail[i]) continue;
      const x = u.valToPos(t[i], 'x', true), y = u.bbox.top + 1;
      g.beginPath();
      g.moveTo(x - 5 * dpr, y);
      g.lineTo(x + 5 * dpr, y);
      g.lineTo(x, y + 8 * dpr);
      g.closePath();
      g.fill();
    }
    g.restore();
  }

  // make builds the chart in el. opts: {width, height, onZoom(from, to)}.
  function make(el, d, opts) {
    const data = toData(d);
    const ax = axisStyle();
    const none = 'rgba(0,0,0,0)';
    const extra = d.kernel ? [{ label: 'kernel RTT', scale: 'ms', stroke: PA.css('--kernel'), width: 1.5, points: { show: false } }] : [];
    const u = new uPlot({
      width: opts.width,
      height: opts.height,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      scales: { x: { time: true }, ms: { auto: true, range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] }, pct: { range: [0, 100] } },
      series: [
        {},
        { label: 'p5', scale: 'ms', stroke: none, width: 0, points: { show: false } },
        { label: 'p25', scale: 'ms', stroke: none, width: 0, points: { show: false } },
        { label: 'median', scale: 'ms', stroke: none, width: 0, points: { show: false } },
        { label: 'p75', scale: 'ms', stroke: none, width: 0, points: { show: false } },
        { label: 'p95', scale: 'ms', stroke: none, width: 0, points: { show: false } },
        { label: 'loss', scale: 'pct', fill: PA.css('--loss-bar'), stroke: none, width: 0, points: { show: false },
          paths: uPlot.paths.bars({ size: [0.9, 12] }) },
        { label: 'jitter', scale: 'ms', stroke: PA.css('--jitter'), width: 1.25, dash: [4, 3], points: { show: false } },
        ...extra,
      ],
      bands: [
        { series: [P95, P5], fill: PA.css('--band-outer') },
        { series: [P75, P25], fill: PA.css('--band-inner') },
      ],
      axes: [
        Object.assign({ space: 80 }, ax), // time labels are about 60 px wide
        Object.assign({ scale: 'ms', label: 'RTT, jitter (ms)', size: 56, values: (u, vs) => vs.map((v) => +v.toPrecision(3)) }, ax),
        Object.assign({ scale: 'pct', label: 'loss (%)', side: 1, size: 48, grid: { show: false } }, ax),
      ],
      hooks: {
        draw: [(u) => drawMedian(u, u.fail)],
        setScale: [(u, key) => {
          if (key === 'x') document.body.dataset.xrange = Math.round(u.scales.x.min) + '-' + Math.round(u.scales.x.max);
        }],
        setSelect: [(u) => {
          if (u.select.width < 4) return;
          const from = u.posToVal(u.select.left, 'x'), to = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
          opts.onZoom(Math.floor(from), Math.ceil(to));
        }],
      },
    }, data.cols, el);
    u.fail = data.fail;
    return u;
  }

  // set replaces the data of u; with keepScale the x range stays as it is.
  function set(u, d, keepScale) {
    const data = toData(d);
    u.fail = data.fail;
    u.setData(data.cols, !keepScale);
  }

  // legend fills el with the chart's keys.
  function legend(el, kernel) {
    const { el: mk } = PA;
    const item = (cls, text) => { const s = mk('span'); s.appendChild(mk('span', { class: 'sw ' + cls })); s.appendChild(document.createTextNode(text)); return s; };
    const parts = [item('band-outer', 'p5–p95'), item('band-inner', 'p25–p75'), mk('span', null, 'median by loss:')];
    PA.lossLabels.forEach((l, i) => parts.push(item('l' + i, l)));
    parts.push(item('loss', 'loss (right axis)'));
    if (kernel) parts.push(item('kernel', 'kernel RTT (TCP_INFO)')); else parts.push(item('jitter', 'jitter'));
    parts.push(item('fail', '▼ failed or all lost'));
    el.replaceChildren(...parts);
  }

  return { make, set, legend, T, P50, LOSS };
})();
