// charts.js: uPlot charts of measurements (uPlot is loaded as a classic script before the
// modules, as window.uPlot). Times on the axes are node time in UTC. Each chart follows the
// width of its container and can be given new data without being rebuilt.
//
// - availability per interval (step) with each window's compliance and the target, bad
//   intervals marked;
// - availability per window as bars against the target;
// - response time (or another interval metric) against its threshold, violations marked.

import {h} from './dom.js';

const css = (name, fallback) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

function palette() {
  return {
    accent: css('--accent', '#635bff'),
    good: css('--good', '#16a34a'),
    bad: css('--bad', '#dc2626'),
    warn: css('--warn', '#d97706'),
    muted: css('--muted', '#6b7280'),
    grid: css('--chart-grid', 'rgba(120,120,140,0.15)'),
    text: css('--text-2', '#4b5563'),
    accentFill: css('--accent-fill', 'rgba(99,91,255,0.12)'),
    goodFill: 'rgba(34, 197, 94, 0.55)',
    badFill: 'rgba(239, 68, 68, 0.55)',
  };
}

const utc = (ts) => window.uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n) => String(n).padStart(2, '0');

/** Axis labels in UTC, 24-hour: "16:05", with the day where it changes or for long ranges. */
function timeValues(u, splits) {
  const range = (u.scales.x.max || 0) - (u.scales.x.min || 0);
  let lastDay = '';
  return splits.map((s) => {
    const d = new Date(s * 1000);
    const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
    const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    if (range > 3 * 86400) return day;
    const label = day !== lastDay ? `${hm}\n${day}` : hm;
    lastDay = day;
    return label;
  });
}

export function timeLabel(v) {
  if (v === null || v === undefined) return '—';
  const d = new Date(v * 1000);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

function axes(p, yLabel, yValues) {
  const common = {stroke: p.text, grid: {stroke: p.grid, width: 1}, ticks: {stroke: p.grid, width: 1}, font: '11px system-ui, sans-serif'};
  return [
    {...common, values: timeValues, size: 44},
    {...common, label: yLabel, labelFont: '11px system-ui, sans-serif', labelSize: 16, values: yValues, size: 52},
  ];
}

/** The x scale: the agreement's whole period when known, so the chart fills as time passes. */
function xScale(period) {
  if (!period) return {time: true};
  const a = sec(period.start);
  const b = sec(period.end);
  return {time: true, range: (u, min, max) => [Math.min(a, min ?? a), Math.max(b, max ?? b)]};
}

/** Makes a uPlot chart that tracks el's width; returns {setData, destroy, plot}. */
function mount(el, opts, data) {
  if (!window.uPlot) {
    el.replaceChildren(h('p', {class: 'muted'}, 'Charts are unavailable (uPlot did not load).'));
    return {setData() {}, destroy() {}};
  }
  const width = () => Math.max(280, Math.floor(el.clientWidth || 600));
  const plot = new window.uPlot({...opts, width: width(), height: opts.height || 240, tzDate: utc}, data, el);
  let last = width();
  const ro = new ResizeObserver(() => {
    const w = width();
    if (w !== last) {
      last = w;
      plot.setSize({width: w, height: opts.height || 240});
    }
  });
  ro.observe(el);
  return {
    plot,
    setData(d) {
      plot.setData(d);
    },
    destroy() {
      ro.disconnect();
      plot.destroy();
    },
  };
}

const sec = (iso) => Date.parse(iso) / 1000;

function markerSeries(label, color) {
  return {label, stroke: color, fill: color, width: 0, paths: () => null, points: {show: true, size: 9, width: 2, stroke: color, fill: color}};
}

/**
 * Availability per interval. rows: decided intervals of the objective ({start, value (ppm),
 * outcome}); obj: the statement's objective (target, windows).
 */
export function availabilityChart(el, rows, obj, {period} = {}) {
  const p = palette();
  const data = availabilityData(rows, obj);
  const opts = {
    height: 240,
    cursor: {points: {size: 7}},
    scales: {x: xScale(period), y: {range: [0, 100.5]}},
    legend: {live: true},
    axes: axes(p, '%', (u, v) => v.map((x) => `${x}%`)),
    series: [
      {label: 'Interval (UTC)', value: (u, v) => timeLabel(v)},
      {label: 'Availability', stroke: p.accent, fill: p.accentFill, width: 2, paths: window.uPlot && window.uPlot.paths.stepped({align: 1}), points: {show: false}, value: (u, v) => (v === null ? '—' : `${v.toFixed(2)}%`)},
      {label: 'Window compliance', stroke: p.good, width: 2, dash: [], paths: window.uPlot && window.uPlot.paths.stepped({align: 1}), points: {show: false}, value: (u, v) => (v === null ? '—' : `${v.toFixed(3)}%`)},
      {label: 'Target', stroke: p.warn, width: 1.5, dash: [6, 4], points: {show: false}, value: (u, v) => (v === null ? '—' : `${v}%`)},
      {...markerSeries('Bad interval', p.bad), value: (u, v) => (v === null ? '—' : 'bad')},
    ],
  };
  const chart = mount(el, opts, data);
  return {update: (r, o) => chart.setData(availabilityData(r, o)), destroy: chart.destroy};
}

function availabilityData(rows, obj) {
  const xs = [];
  const avail = [];
  const comp = [];
  const tgt = [];
  const bad = [];
  const windows = (obj.windows || []).map((w) => ({a: sec(w.start), b: sec(w.end), good: 0, bad: 0}));
  let wi = 0;
  for (const r of rows) {
    const t = sec(r.start);
    while (wi < windows.length - 1 && t >= windows[wi].b) wi++;
    const w = windows[wi];
    if (w && r.outcome === 'good') w.good++;
    if (w && r.outcome === 'bad') w.bad++;
    xs.push(t);
    avail.push(r.value >= 0 && r.outcome !== 'unknown' ? r.value / 10000 : null);
    comp.push(w && w.good + w.bad ? (100 * w.good) / (w.good + w.bad) : null);
    tgt.push(obj.target / 10000);
    bad.push(r.outcome === 'bad' ? Math.max(0, r.value / 10000) : null);
  }
  if (rows.length) {
    // The last interval is drawn to its end.
    xs.push(sec(rows[rows.length - 1].end));
    avail.push(avail[avail.length - 1]);
    comp.push(comp[comp.length - 1]);
    tgt.push(obj.target / 10000);
    bad.push(null);
  }
  return [xs, avail, comp, tgt, bad];
}

/** Availability per window as bars, the target as a line. */
export function windowBars(el, obj, {period} = {}) {
  const p = palette();
  const opts = {
    height: 200,
    scales: {x: xScale(period), y: {range: [0, 100.5]}},
    axes: axes(p, '%', (u, v) => v.map((x) => `${x}%`)),
    series: [
      {label: 'Window (UTC)', value: (u, v) => timeLabel(v)},
      {
        label: 'Compliance',
        stroke: p.accent,
        fill: p.accentFill,
        width: 0,
        // Each window's bar is green when it meets the target, red when it does not.
        paths: window.uPlot && window.uPlot.paths.bars({size: [0.92, Infinity], align: 1, gap: 4, disp: {fill: {unit: 3, values: (u, sidx) => u.data[sidx].map((v) => (v === null ? null : v * 10000 >= obj.target ? p.goodFill : p.badFill))}}}),
        points: {show: false},
        value: (u, v) => (v === null ? '—' : `${v.toFixed(3)}%`),
      },
      {label: 'Target', stroke: p.warn, width: 1.5, dash: [6, 4], points: {show: false}, paths: window.uPlot && window.uPlot.paths.stepped({align: 1}), value: (u, v) => (v === null ? '—' : `${v}%`)},
    ],
  };
  const chart = mount(el, opts, windowData(obj));
  return {update: (r, o) => chart.setData(windowData(o)), destroy: chart.destroy};
}

function windowData(obj) {
  const ws = obj.windows || [];
  const xs = ws.map((w) => sec(w.start));
  const c = ws.map((w) => (w.good + w.bad ? (100 * w.good) / (w.good + w.bad) : null));
  const t = ws.map(() => obj.target / 10000);
  if (ws.length) {
    // One more point at the last window's end, so the target line spans the whole period.
    xs.push(sec(ws[ws.length - 1].end));
    c.push(null);
    t.push(obj.target / 10000);
  }
  return [xs, c, t];
}

/** An interval metric (ms) against its threshold; violations marked. */
export function thresholdChart(el, rows, obj, {unit = 'ms', period} = {}) {
  const p = palette();
  const fmt = (v) => (v === null ? '—' : `${Math.round(v)} ${unit}`);
  const opts = {
    height: 240,
    scales: {x: xScale(period), y: {range: (u, min, max) => [0, Math.max(max || 0, obj.target) * 1.15 || 1]}},
    axes: axes(p, unit, (u, v) => v.map((x) => `${x}`)),
    series: [
      {label: 'Interval (UTC)', value: (u, v) => timeLabel(v)},
      {label: `Measured`, stroke: p.accent, width: 2, points: {show: false}, value: (u, v) => fmt(v)},
      {label: 'Threshold', stroke: p.warn, width: 1.5, dash: [6, 4], points: {show: false}, value: (u, v) => fmt(v)},
      {...markerSeries('Violation', p.bad), value: (u, v) => fmt(v)},
    ],
  };
  const chart = mount(el, opts, thresholdData(rows, obj));
  return {update: (r, o) => chart.setData(thresholdData(r, o)), destroy: chart.destroy};
}

function thresholdData(rows, obj) {
  const xs = [];
  const v = [];
  const t = [];
  const bad = [];
  for (const r of rows) {
    xs.push(sec(r.start));
    const ok = r.value >= 0 && r.outcome !== 'unknown';
    v.push(ok ? r.value : null);
    t.push(obj.target);
    bad.push(r.outcome === 'bad' && ok ? r.value : null);
  }
  return [xs, v, t, bad];
}
