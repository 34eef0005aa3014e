// fmt.js: how numbers, money, ratios and times read in the console. The ledger keeps integers
// (minor units, ppm, ms) and decimal strings; nothing here goes through floating point where
// the exact digits matter (money is formatted from its decimal string).

const moneyFormats = new Map();

function moneyFormat(currency) {
  if (!moneyFormats.has(currency)) {
    let f = null;
    try {
      f = new Intl.NumberFormat('en-US', {style: 'currency', currency});
    } catch {
      f = null; // not an ISO code Intl knows: shown as "12.50 XYZ"
    }
    moneyFormats.set(currency, f);
  }
  return moneyFormats.get(currency);
}

/** Decimal places of a currency (Intl's table; 2 when unknown). */
export function minorUnits(currency) {
  const f = moneyFormat(currency);
  return f ? f.resolvedOptions().maximumFractionDigits : 2;
}

/** "1000.00", "EUR" -> "€1,000.00" (exact: Intl formats decimal strings digit by digit). */
export function money(decimal, currency) {
  if (decimal === null || decimal === undefined || decimal === '') return '—';
  const s = String(decimal);
  const f = currency ? moneyFormat(currency) : null;
  if (!f) return currency ? `${s} ${currency}` : s;
  return f.format(s);
}

/** Minor units (integer) -> decimal string, e.g. 12500, 2 -> "125.00". */
export function minorToDecimal(minor, digits) {
  const neg = minor < 0;
  let s = String(Math.abs(Math.trunc(Number(minor))));
  if (digits <= 0) return (neg ? '-' : '') + s;
  s = s.padStart(digits + 1, '0');
  return `${neg ? '-' : ''}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/** Minor units and currency -> "€125.00". */
export function moneyMinor(minor, currency) {
  if (minor === null || minor === undefined) return '—';
  return money(minorToDecimal(minor, minorUnits(currency)), currency);
}

/** "99.9%" from parts per million. */
export function ppm(v) {
  if (v === null || v === undefined || v < 0) return '—';
  return `${trimZeros((v / 10000).toFixed(4))}%`;
}

/** A statement ratio such as "71.4285%" rounded for reading: "71.43%". */
export function pct(s) {
  if (s === null || s === undefined) return '—';
  const n = parseFloat(s);
  if (!Number.isFinite(n)) return String(s);
  return `${trimZeros(n.toFixed(n >= 99 && n < 100 ? 3 : 2))}%`;
}

/** Statement ratio string -> ppm (integer), or null. */
export function pctToPpm(s) {
  if (s === null || s === undefined) return null;
  const m = /^(\d+)(?:\.(\d{1,4}))?%$/.exec(String(s).trim());
  if (!m) return null;
  return Number(m[1]) * 10000 + Number((m[2] || '').padEnd(4, '0'));
}

function trimZeros(s) {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

export function ms(v) {
  if (v === null || v === undefined || v < 0) return '—';
  return v >= 10000 ? `${trimZeros((v / 1000).toFixed(1))} s` : `${v} ms`;
}

export function int(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US');
}

const pad = (n) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function parseTime(iso) {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/** "Nov 23, 16:10 UTC" (node time is UTC; the ledger's clock may run faster than the wall). */
export function time(iso, {seconds = false, utc = true} = {}) {
  const t = typeof iso === 'number' ? iso : parseTime(iso);
  if (t === null || t <= 0) return '—';
  const d = new Date(t);
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${seconds ? ':' + pad(d.getUTCSeconds()) : ''}`;
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${hm}${utc ? ' UTC' : ''}`;
}

export function clock(iso) {
  const t = typeof iso === 'number' ? iso : parseTime(iso);
  if (t === null) return '—';
  const d = new Date(t);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** "Nov 23 16:00 – 16:30" for a span; the day is repeated only when it changes. */
export function span(startIso, endIso) {
  const a = parseTime(startIso);
  const b = parseTime(endIso);
  if (a === null || b === null) return '—';
  const da = new Date(a);
  const db = new Date(b);
  const day = (d) => `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
  const sameDay = day(da) === day(db) || (b - a <= 86400000 && db.getUTCHours() === 0 && db.getUTCMinutes() === 0);
  return sameDay ? `${day(da)} ${clock(a)} – ${clock(b)}` : `${day(da)} ${clock(a)} – ${day(db)} ${clock(b)}`;
}

/** An agreement's period: "Nov 23, 2026 · 16:00 – 17:00 UTC" or "Dec 1, 2026 – Jan 1, 2027". */
export function period(p) {
  if (!p) return '—';
  const a = parseTime(p.start);
  const b = parseTime(p.end);
  if (a === null || b === null) return '—';
  const da = new Date(a);
  const db = new Date(b);
  const date = (d) => `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
  const midnight = (d) => d.getUTCHours() === 0 && d.getUTCMinutes() === 0;
  if (date(da) === date(db)) return `${date(da)} · ${clock(a)} – ${clock(b)} UTC`;
  if (midnight(da) && midnight(db)) return `${date(da)} – ${date(db)}`;
  return `${date(da)} ${clock(a)} – ${date(db)} ${clock(b)} UTC`;
}

/** "2h 30m" from milliseconds. */
export function duration(v) {
  if (!Number.isFinite(v)) return '—';
  const s = Math.round(v / 1000);
  const parts = [];
  const units = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];
  let rest = s;
  for (const [u, n] of units) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  return parts.slice(0, 2).join(' ') || '0s';
}

export function shortHash(hex, n = 10) {
  if (!hex) return '—';
  return hex.length > 2 * n ? `${hex.slice(0, n)}…${hex.slice(-4)}` : hex;
}

/** The window containing t, else the last one that has data, else the first. */
export function currentWindow(windows, t) {
  if (!windows || !windows.length) return null;
  if (t) {
    const w = windows.find((x) => parseTime(x.start) <= t && t < parseTime(x.end));
    if (w) return w;
  }
  const withData = windows.filter((x) => x.good + x.bad + x.unknown > 0);
  return withData.length ? withData[withData.length - 1] : windows[0];
}

export const METRIC_LABEL = {
  availability: 'Availability',
  response_time: 'Response time',
  processing_time: 'Processing time',
  delay: 'Delay',
  throughput: 'Throughput',
  error_rate: 'Error rate',
  durability: 'Durability',
  integrity: 'Integrity',
  confidentiality: 'Confidentiality',
  retention: 'Retention',
  deletion: 'Deletion',
};

/** An objective's target in words: ">= 99.9%", "<= 300 ms", ">= 250 req/s", "pass". */
export function target(obj) {
  switch (obj.unit) {
    case 'ppm':
      return obj.metric === 'error_rate' ? `≤ ${ppm(obj.target)}` : `≥ ${ppm(obj.target)}`;
    case 'ms':
      return `≤ ${ms(obj.target)}`;
    case 'mreq/s':
      return `≥ ${trimZeros((obj.target / 1000).toFixed(3))} req/s`;
    default:
      return 'pass';
  }
}

/** A decided interval's value in the objective's unit. */
export function measured(metric, v) {
  if (v === null || v === undefined || v < 0) return '—';
  switch (metric) {
    case 'availability':
    case 'error_rate':
      return ppm(v);
    case 'response_time':
    case 'processing_time':
    case 'delay':
      return ms(v);
    case 'throughput':
      return `${trimZeros((v / 1000).toFixed(3))} req/s`;
    default:
      return v >= 1 ? 'passed' : 'failed';
  }
}

export const SERVICE_KIND = {
  'aws.ec2': 'AWS EC2',
  'azure.vm': 'Azure VM',
  http: 'HTTP endpoint',
  prometheus: 'Prometheus',
  push: 'Push agent',
  postgresql: 'PostgreSQL',
  'process-step': 'Process step',
};
