// data.js: what several views derive from the API: the node's clock (its last block's time),
// an objective's health in its current window, and the money events of agreements.

import {api, blockTime} from './api.js';
import {currentWindow, parseTime, pctToPpm, pct, target, METRIC_LABEL} from './fmt.js';

/** The node's time on a channel: its head block's timestamp (ms), or null. */
export async function nodeNow(app, channel) {
  try {
    let height = null;
    const c = app.health && (app.health.channels || []).find((x) => x.name === channel);
    if (c) height = c.height;
    if (height === null) {
      const d = await api.blocks(channel, {limit: 1});
      height = d.head;
    }
    const t = await api.blocks(channel, {from: height, limit: 1});
    const b = t.blocks && t.blocks[0];
    return b ? parseTime(b.time) : null;
  } catch {
    return null;
  }
}

/** Sums the counts of windows (for a closed agreement: the whole period). */
export function total(windows) {
  const t = {good: 0, bad: 0, unknown: 0, violations: 0, compliance: null};
  for (const w of windows) {
    t.good += w.good;
    t.bad += w.bad;
    t.unknown += w.unknown;
    t.violations += w.violations;
  }
  if (t.good + t.bad > 0) t.compliance = `${((t.good * 100) / (t.good + t.bad)).toFixed(4)}%`;
  return t;
}

/**
 * An objective's health: {tone: good|warn|bad|muted, value, text, label} judged on the window
 * holding now (or, when the agreement is closed, over the whole period).
 */
export function objectiveHealth(obj, {now, closed} = {}) {
  const w = closed ? total(obj.windows || []) : currentWindow(obj.windows || [], now);
  const name = obj.name;
  if (!w || w.good + w.bad === 0) {
    return {tone: 'muted', value: 'no data', text: `${name}: no data`, label: `${name}: no measurements yet in the current window`};
  }
  const c = pctToPpm(w.compliance);
  let ok;
  let value;
  if (obj.metric === 'availability') {
    ok = c !== null && c >= obj.target;
    value = pct(w.compliance);
  } else {
    ok = w.violations === 0;
    value = w.violations === 0 ? 'in target' : `${w.violations} violation${w.violations === 1 ? '' : 's'}`;
  }
  const tone = ok ? 'good' : obj.metric === 'availability' ? 'bad' : 'warn';
  const where = closed ? 'over the period' : 'in the current window';
  return {
    tone,
    value,
    text: `${name} ${value}`,
    label: `${name} (${METRIC_LABEL[obj.metric] || obj.metric}, target ${target(obj)}): ${value} ${where}, ${ok ? 'meets its target' : 'misses its target'}`,
  };
}

export const MONEY_KINDS = ['deposited', 'penalty', 'settlement', 'refund'];

/** Money events of one agreement, each with its agreement, channel and block time. */
export async function moneyEvents(agr, {withTime = true} = {}) {
  const lists = await Promise.all(MONEY_KINDS.map((kind) => api.events(agr.name, {kind, limit: 1000}).catch(() => [])));
  const rows = lists.flat().map((e) => ({...e, agreement: agr.name, channel: agr.channel, consumer: agr.consumer, provider: agr.provider}));
  if (withTime) await Promise.all(rows.map(async (r) => (r.time = await blockTime(agr.channel, r.height))));
  rows.sort((a, b) => b.height - a.height);
  return rows;
}
