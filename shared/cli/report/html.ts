import { createHash } from 'node:crypto';
import { formatSeverity, severityTitle, type SeverityLabel } from '../../severity.ts';
import type { ChangedFinding, DiffData, RouteGroup } from './diff.ts';
import { planLine } from './diff.ts';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery-status.ts';
import { OUTCOMES, type CoverageRow, type FindingView, type ReportData } from './model.ts';
import { BUTTON_PREVIEW_CSS, slackActionsPreview } from '../../actions/slack-buttons.ts';

/**
 * The replay report and the routing diff as single self-contained HTML files: no network,
 * no external assets, system fonts, inline CSS and one small inline script allowed by its
 * hash in a strict Content-Security-Policy. Every finding-derived string goes through
 * `escapeHtml`; rendered payloads are shown as text. Everything that matters works without
 * JavaScript (<details> for the per-finding views); the script only adds the filters.
 */
const escapeHtml = (text: unknown): string =>
  String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

// ── The filter script (its hash goes into the CSP) ──────────────────────────
const SCRIPT = `(() => {
  const form = document.getElementById('filters');
  if (!form) return;
  form.hidden = false;
  form.addEventListener('submit', (e) => e.preventDefault());
  // The bar is sticky: anchors and opened findings land below it, never under it.
  const root = document.documentElement;
  const barHeight = () => form.getBoundingClientRect().height + 8;
  const keepBelowBar = () => root.style.setProperty('scroll-padding-top', barHeight() + 'px');
  keepBelowBar();
  window.addEventListener('resize', keepBelowBar);
  document.addEventListener('toggle', (e) => {
    const d = e.target;
    if (!d || !d.open || !d.classList || !d.classList.contains('finding')) return;
    const top = d.getBoundingClientRect().top, bar = form.getBoundingClientRect();
    if (bar.top <= 1 && top < bar.bottom + 4) window.scrollBy(0, top - bar.bottom - 4);
  }, true);
  const rows = Array.from(document.querySelectorAll('[data-row]'));
  const field = (name) => form.elements.namedItem(name);
  const value = (name) => (field(name) ? field(name).value : '');
  const shown = document.getElementById('shown');
  const shownGroups = document.getElementById('shown-groups');
  const apply = () => {
    const words = value('q').trim().toLowerCase().split(/\\s+/).filter(Boolean);
    const sev = value('severity'), outcome = value('outcome'), account = value('account'), target = value('target');
    let visible = 0, total = 0, groups = 0, grouped = 0;
    for (const row of rows) {
      const d = row.dataset;
      const finding = d.row === 'finding', group = d.row === 'group';
      const ok = words.every((w) => d.text.includes(w)) && (!(finding || group) || (
        (!sev || d.severity === sev) && (!outcome || d.outcome === outcome) &&
        (!account || group || d.account === account) && (!target || d.targets.split(' ').includes(target))));
      row.hidden = !ok;
      if (finding) { total++; if (ok) visible++; }
      if (group && ok) { groups++; grouped += Number(d.n); }
    }
    if (shown) shown.textContent = visible + ' of ' + total + ' ' + (shown.dataset.noun || 'rows') + ' shown';
    if (shownGroups) shownGroups.textContent = groups + ' groups shown (' + grouped + ' findings)';
  };
  form.addEventListener('input', apply);
  form.addEventListener('change', apply);
  apply();
  // A group's example link opens the finding it points to.
  const openTarget = () => {
    const target = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    if (target && target.tagName === 'DETAILS') target.open = true;
  };
  window.addEventListener('hashchange', openTarget);
  openTarget();
})();`;

const SCRIPT_HASH = `sha256-${createHash('sha256').update(SCRIPT, 'utf8').digest('base64')}`;
const CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src '${SCRIPT_HASH}'; img-src 'none'; base-uri 'none'; form-action 'none'`;

const CSS = `
:root { color-scheme: light dark; --bg:#fff; --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --panel:#f6f8fa; --accent:#0757b8;
  --critical:#a0111f; --high:#8f4400; --medium:#6f5400; --low:#0b5aa8; --ok:#1a7336; --warn:#8f4400; --bad:#a0111f; --info:#6639ba; }
@media (prefers-color-scheme: dark) { :root { --bg:#0d1117; --fg:#e6edf3; --muted:#9198a1; --line:#3d444d; --panel:#161b22; --accent:#4493f8;
  --critical:#ff7b72; --high:#ffa657; --medium:#e3b341; --low:#79c0ff; --ok:#56d364; --warn:#ffa657; --bad:#ff7b72; --info:#d2a8ff; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header.page { padding: 20px 28px 12px; border-bottom: 1px solid var(--line); background: var(--panel); }
header.page h1 { margin: 0 0 4px; font-size: 22px; }
header.page p { margin: 0; color: var(--muted); }
nav.toc { margin-top: 8px; display: flex; gap: 16px; flex-wrap: wrap; }
a { color: var(--accent); }
main { padding: 8px 28px 40px; max-width: 1400px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 8px; }
h4 { font-size: 13px; margin: 14px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 120px; background: var(--bg); }
.card .n { font-size: 26px; font-weight: 700; display: block; font-variant-numeric: tabular-nums; }
.card .l { color: var(--muted); }
.card.warn { border-left: 5px solid var(--warn); } .card.bad { border-left: 5px solid var(--bad); } .card.ok { border-left: 5px solid var(--ok); } .card.info { border-left: 5px solid var(--info); }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; position: sticky; top: 0; }
td.num, th.num { text-align: right; }
td.bad { color: var(--bad); font-weight: 700; }
.scroll { overflow: auto; max-height: 70vh; border: 1px solid var(--line); border-radius: 6px; }
.sev { white-space: nowrap; display: inline-block; min-width: 64px; width: max-content; padding: 0 6px; border-radius: 4px; color: #fff; font-weight: 600; font-size: 12px; text-align: center; }
@media (prefers-color-scheme: dark) { .sev { color: #0d1117; } }
.sev-critical { background: var(--critical); } .sev-high { background: var(--high); } .sev-medium { background: var(--medium); } .sev-low { background: var(--low); } .sev-none { background: var(--muted); }
.sev-critical::before { content: "▲ "; } .sev-high::before { content: "◆ "; } .sev-medium::before { content: "● "; } .sev-low::before { content: "○ "; }
.out { display: inline-block; padding: 0 6px; border-radius: 4px; border: 1px solid currentColor; font-size: 12px; font-weight: 600; }
.out-routed { color: var(--ok); } .out-suppressed { color: var(--info); } .out-rejected, .out-failed { color: var(--bad); } .out-ignored { color: var(--muted); }
.chip { display: inline-block; padding: 0 6px; margin: 1px 2px; border-radius: 10px; background: var(--panel); border: 1px solid var(--line); font-size: 12px; }
.muted { color: var(--muted); }
.bar-cell { min-width: 120px; }
.bar { display: block; height: 6px; border-radius: 3px; background: var(--accent); margin-top: 2px; opacity: .75; }
.matrix td.hit { text-align: center; font-weight: 600; }
.matrix td.miss { text-align: center; color: var(--muted); }
.matrix tr.flag-default td:first-child, .matrix tr.flag-nothing td:first-child { border-left: 4px solid var(--warn); }
.flag { display: inline-block; font-size: 11px; font-weight: 700; padding: 0 5px; border-radius: 3px; border: 1px solid var(--warn); color: var(--warn); margin-left: 6px; white-space: nowrap; }
form#filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; padding: 10px 12px; margin: 8px 0 12px; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; position: sticky; top: 0; z-index: 2; }
form#filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
form#filters input, form#filters select { font: inherit; padding: 4px 6px; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); }
form#filters input[type=search] { min-width: 280px; }
.counts { margin-left: auto; display: flex; flex-direction: column; align-items: flex-end; font-weight: 600; }
#shown-groups { font-weight: 400; color: var(--muted); font-size: 12px; }
details.finding { border: 1px solid var(--line); border-radius: 6px; margin: 4px 0; background: var(--bg); scroll-margin-top: 96px; }
details.finding > summary { display: grid; grid-template-columns: minmax(112px, max-content) minmax(0, 3fr) minmax(0, 1.3fr) 96px minmax(0, 1.6fr); gap: 10px; align-items: center; padding: 6px 10px; cursor: pointer; list-style: none; }
details.finding > summary::-webkit-details-marker { display: none; }
details.finding > summary::before { content: "▸"; position: absolute; margin-left: -8px; color: var(--muted); }
details.finding[open] > summary { border-bottom: 1px solid var(--line); background: var(--panel); }
.t-type { font-weight: 600; overflow-wrap: anywhere; }
.t-title { display: block; color: var(--muted); font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.body { padding: 8px 14px 14px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; overflow-wrap: anywhere; }
ol.trace { list-style: none; padding: 0; margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
ol.trace li.hit { color: var(--ok); } ol.trace li.miss { color: var(--muted); }
.payloads { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px; }
.payload { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; min-width: 0; }
.payload h5 { margin: 0 0 6px; font-size: 13px; }
pre { margin: 6px 0 0; padding: 8px; background: var(--panel); border-radius: 4px; overflow: auto; max-height: 360px; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
/* Slack look-alike */
.slack { display: flex; gap: 8px; font: 15px/1.46667 "Lato", system-ui, -apple-system, "Segoe UI", sans-serif; background: #fff; color: #1d1c1d; padding: 8px; border-radius: 4px; border: 1px solid #e2e2e2; }
.sl-avatar { width: 36px; height: 36px; border-radius: 6px; background: #4a154b; color: #fff; font-weight: 700; display: flex; align-items: center; justify-content: center; flex: none; font-size: 13px; }
.sl-main { min-width: 0; flex: 1; }
.sl-head b { font-weight: 900; } .sl-app { font-size: 10px; background: #e8e8e8; color: #616061; padding: 0 3px; border-radius: 2px; font-weight: 700; margin-left: 4px; } .sl-time { color: #616061; font-size: 12px; margin-left: 4px; }
.sl-block { margin: 4px 0; overflow-wrap: anywhere; }
.sl-fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; }
.sl-context { color: #616061; font-size: 12px; }
.slack a, .teams a { color: #1264a3; }
.emo { display: inline-block; width: .95em; height: .95em; vertical-align: -.1em; border-radius: 50%; }
.emo-red_circle { background: #dd2e44; } .emo-large_blue_circle { background: #55acee; }
.emo-large_orange_diamond { background: #f4900c; border-radius: 2px; transform: rotate(45deg) scale(.8); }
.emo-rotating_light { background: radial-gradient(circle at 50% 40%, #fff 0 18%, #dd2e44 20%); border-radius: 50% 50% 2px 2px; }
.slack code { background: #f6f6f6; border: 1px solid #ddd; border-radius: 3px; padding: 0 2px; color: #e01e5a; }
/* Teams look-alike */
.teams { font: 14px/1.43 "Segoe UI", system-ui, -apple-system, sans-serif; background: #f5f5f5; color: #242424; padding: 10px; border-radius: 4px; }
.tm-head { font-size: 12px; color: #616161; margin-bottom: 4px; } .tm-head b { color: #242424; }
.tm-card { background: #fff; border-radius: 4px; padding: 12px 14px; box-shadow: 0 1px 2px rgba(0,0,0,.14); border-top: 4px solid #5b5fc7; }
.tm-card.tm-critical { border-top-color: #c4314b; } .tm-card.tm-high { border-top-color: #c75b00; } .tm-card.tm-medium { border-top-color: #0f6cbd; } .tm-card.tm-low { border-top-color: #237b4b; }
.tm-text { margin: 4px 0; overflow-wrap: anywhere; }
.tm-bold { font-weight: 600; } .tm-medium { font-size: 16px; } .tm-large { font-size: 20px; } .tm-small { font-size: 12px; } .tm-subtle { color: #616161; }
.tm-attention { color: #c4314b; } .tm-warning { color: #8a4600; } .tm-good { color: #237b4b; } .tm-accent { color: #0f6cbd; }
.tm-facts { border-collapse: collapse; margin: 6px 0; } .tm-facts td { border: 0; padding: 1px 12px 1px 0; } .tm-facts td:first-child { font-weight: 600; white-space: nowrap; }
.tm-action { display: inline-block; margin-top: 8px; padding: 4px 12px; border: 1px solid #d1d1d1; border-radius: 4px; color: #242424 !important; text-decoration: none; font-weight: 600; background: #fff; }
/* diff */
.mk { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-weight: 700; }
.mk-add { color: var(--ok); } .mk-del { color: var(--bad); } .mk-chg { color: var(--warn); }
table.diff { width: 100%; } table.diff td.arrow { white-space: nowrap; } table.diff .t-title { white-space: normal; }
pre.yaml-diff { max-height: none; white-space: pre; overflow-wrap: normal; }
pre.yaml-diff span { display: inline-block; min-width: 100%; }
.yl-add { background: color-mix(in srgb, var(--ok) 16%, transparent); } .yl-del { background: color-mix(in srgb, var(--bad) 16%, transparent); }
.yl-hunk { color: var(--info); } .yl-file { font-weight: 700; }
tr.add td:first-child { border-left: 4px solid var(--ok); } tr.del td:first-child { border-left: 4px solid var(--bad); } tr.chg td:first-child { border-left: 4px solid var(--warn); }
.plan { font-size: 15px; font-weight: 600; padding: 10px 14px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); }
${BUTTON_PREVIEW_CSS}`;

// ── Shared bits ──────────────────────────────────────────────────────────────
const page = (title: string, header: string, body: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="page">${header}</header>
<main>
${body}
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const severityBadge = (label: SeverityLabel | null, severity?: number | null): string =>
  label === null
    ? '<span class="sev sev-none">n/a</span>'
    : `<span class="sev sev-${label}">${severity === undefined || severity === null ? severityTitle(label) : escapeHtml(formatSeverity(severity))}</span>`;

const outcomeBadge = (outcome: string): string => `<span class="out out-${escapeHtml(outcome)}">${escapeHtml(outcome)}</span>`;
const chips = (items: readonly string[], empty = '<span class="muted">none</span>'): string =>
  items.length === 0 ? empty : items.map((t) => `<span class="chip">${escapeHtml(t)}</span>`).join('');

const filterBox = (selects: string, placeholder: string, noun: string, groups = false): string => `
<form id="filters" hidden role="search" aria-label="Filter findings">
  <label>Filter<input type="search" name="q" placeholder="${escapeHtml(placeholder)}" aria-label="Filter rows by text" autocomplete="off"></label>
  ${selects}
  <span class="counts">${groups ? '<span id="shown-groups" aria-live="polite"></span>' : ''}<span id="shown" data-noun="${escapeHtml(noun)}" aria-live="polite"></span></span>
</form>`;

const unlistedNote = (n: number, what: string): string => (n > 0 ? `<p class="muted unlisted">… and ${n} ${what}, counted above but not listed.</p>` : '');

const select = (name: string, label: string, options: readonly { value: string; label: string }[]): string =>
  `<label>${escapeHtml(label)}<select name="${escapeHtml(name)}"><option value="">all</option>${options
    .map((o) => `<option value="${escapeHtml(o.value)}">${escapeHtml(o.label)}</option>`)
    .join('')}</select></label>`;

// ── Slack and Teams previews, built from the rendered JSON ─────────────────
/** Slack's emoji as drawn shapes, so the preview does not depend on an emoji font. */
const SLACK_EMOJI = new Set(['rotating_light', 'red_circle', 'large_orange_diamond', 'large_blue_circle']);

const decodeSlackEntities = (text: string): string => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** Slack mrkdwn → HTML: every piece escaped, then bold/italic/code/emoji and `<url|label>` links. */
const mrkdwnToHtml = (text: string): string => {
  const inline = (raw: string): string =>
    escapeHtml(decodeSlackEntities(raw))
      .replace(/:([a-z0-9_+-]+):/g, (all, name: string) => (SLACK_EMOJI.has(name) ? `<span class="emo emo-${name}" role="img" aria-label="${name.replace(/_/g, ' ')}"></span>` : all))
      .replace(/(^|[\s(>])\*([^*\n]+)\*(?=$|[\s).,:;!?<])/g, '$1<strong>$2</strong>')
      .replace(/(^|[\s(>])_([^_\n]+)_(?=$|[\s).,:;!?<])/g, '$1<em>$2</em>')
      .replace(/`([^`\n]+)`/g, '<code>$1</code>')
      .replace(/\n/g, '<br>');
  let html = '';
  let last = 0;
  for (const m of text.matchAll(/<([^<>|]*)(?:\|([^<>]*))?>/g)) {
    html += inline(text.slice(last, m.index));
    const url = decodeSlackEntities(m[1] ?? '');
    const label = m[2] === undefined ? url : m[2];
    html += /^https:\/\//i.test(url) ? `<a href="${escapeHtml(url)}" rel="noopener noreferrer">${inline(label)}</a>` : `<span>${inline(label)}</span>`;
    last = m.index + m[0].length;
  }
  return html + inline(text.slice(last));
};

const textOf = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'object' && value !== null && typeof (value as { text?: unknown }).text === 'string' ? (value as { text: string }).text : '');

const slackPreview = (body: string, label: SeverityLabel | null): string | undefined => {
  let message: { text?: unknown; blocks?: unknown };
  try {
    message = JSON.parse(body);
  } catch {
    return undefined;
  }
  const blocks = Array.isArray(message.blocks) ? (message.blocks as Record<string, unknown>[]) : [];
  const parts = blocks.map((block) => {
    switch (block.type) {
      case 'header':
        return `<div class="sl-block"><strong>${escapeHtml(textOf(block.text))}</strong></div>`;
      case 'divider':
        return '<hr>';
      case 'actions':
        return slackActionsPreview(block, escapeHtml);
      case 'context':
        return `<div class="sl-block sl-context">${(Array.isArray(block.elements) ? block.elements : []).map((e) => mrkdwnToHtml(textOf(e))).join(' ')}</div>`;
      case 'section': {
        const text = block.text === undefined ? '' : `<div class="sl-block">${mrkdwnToHtml(textOf(block.text))}</div>`;
        const fields = Array.isArray(block.fields) ? `<div class="sl-block sl-fields">${block.fields.map((f) => `<div>${mrkdwnToHtml(textOf(f))}</div>`).join('')}</div>` : '';
        return text + fields;
      }
      default:
        return `<div class="sl-block sl-context">[${escapeHtml(block.type)} block]</div>`;
    }
  });
  const content = parts.length > 0 ? parts.join('') : `<div class="sl-block">${mrkdwnToHtml(textOf(message.text))}</div>`;
  return `<div class="slack" role="figure" aria-label="Slack message preview${label ? `, severity ${label}` : ''}">
<div class="sl-avatar" aria-hidden="true">GD</div>
<div class="sl-main"><div class="sl-head"><b>GuardDuty</b><span class="sl-app">APP</span><span class="sl-time">just now</span></div>${content}</div></div>`;
};

/** Teams (Adaptive Card) Markdown → HTML: backslash escapes honoured, **bold**, _italic_, [label](https://…). */
const teamsMarkdownToHtml = (text: string): string => {
  const literals: string[] = [];
  const marked = text
    .replace(/[\u0000\u0001]/g, '')
    .replace(/\\([!-/:-@[-`{-~])/g, (_all, c: string) => `\u0000${literals.push(c) - 1}\u0001`);
  return escapeHtml(marked)
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[\s(])_([^_]+)_(?=$|[\s).,:;!?])/g, '$1<em>$2</em>')
    .replace(/\[([^\]\u0000]+)\]\((https:[^)\s]+)\)/g, '<a href="$2" rel="noopener noreferrer">$1</a>')
    .replace(/\u0000(\d+)\u0001/g, (_all, i: string) => escapeHtml(literals[Number(i)]))
    .replace(/\n/g, '<br>');
};

const cardElement = (element: Record<string, unknown>): string => {
  switch (element.type) {
    case 'TextBlock': {
      const classes = ['tm-text'];
      if (element.weight === 'Bolder') classes.push('tm-bold');
      if (typeof element.size === 'string') classes.push(`tm-${element.size.toLowerCase()}`);
      if (typeof element.color === 'string') classes.push(`tm-${element.color.toLowerCase()}`);
      if (element.isSubtle === true) classes.push('tm-subtle');
      return `<div class="${escapeHtml(classes.join(' '))}">${teamsMarkdownToHtml(textOf(element.text))}</div>`;
    }
    case 'FactSet': {
      const facts = Array.isArray(element.facts) ? (element.facts as { title?: unknown; value?: unknown }[]) : [];
      return `<table class="tm-facts">${facts.map((f) => `<tr><td>${teamsMarkdownToHtml(textOf(f.title))}</td><td>${teamsMarkdownToHtml(textOf(f.value))}</td></tr>`).join('')}</table>`;
    }
    case 'Container':
      return (Array.isArray(element.items) ? (element.items as Record<string, unknown>[]) : []).map(cardElement).join('');
    case 'ColumnSet':
      return (Array.isArray(element.columns) ? (element.columns as Record<string, unknown>[]) : []).map(cardElement).join('');
    case 'Column':
      return (Array.isArray(element.items) ? (element.items as Record<string, unknown>[]) : []).map(cardElement).join('');
    default:
      return `<div class="tm-text tm-subtle">[${escapeHtml(element.type)}]</div>`;
  }
};

const teamsPreview = (body: string, label: SeverityLabel | null): string | undefined => {
  let card: { body?: unknown; actions?: unknown } | undefined;
  try {
    const message = JSON.parse(body) as { attachments?: { content?: typeof card }[] };
    card = message.attachments?.[0]?.content;
  } catch {
    return undefined;
  }
  if (card === undefined) return undefined;
  const elements = Array.isArray(card.body) ? (card.body as Record<string, unknown>[]) : [];
  const actions = (Array.isArray(card.actions) ? (card.actions as Record<string, unknown>[]) : [])
    .map((a) => {
      const url = typeof a.url === 'string' ? a.url : '';
      const title = escapeHtml(textOf(a.title));
      return /^https:\/\//i.test(url) ? `<a class="tm-action" href="${escapeHtml(url)}" rel="noopener noreferrer">${title}</a>` : `<span class="tm-action">${title}</span>`;
    })
    .join(' ');
  return `<div class="teams" role="figure" aria-label="Microsoft Teams card preview${label ? `, severity ${label}` : ''}">
<div class="tm-head"><b>Workflows</b> via GuardDuty findings router</div>
<div class="tm-card${label ? ` tm-${label}` : ''}">${elements.map(cardElement).join('')}${actions ? `<div>${actions}</div>` : ''}</div></div>`;
};

/** JSON (or JSON lines) pretty-printed; anything else as is. */
const prettyPayload = (body: string): string => {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    const lines = body.split('\n').filter((l) => l.trim() !== '');
    try {
      if (lines.length > 1) return lines.map((l) => JSON.stringify(JSON.parse(l), null, 2)).join('\n');
    } catch {
      // not JSON lines
    }
    return body;
  }
};

const payloadView = (p: FindingView['payloads'][number], label: SeverityLabel | null): string => {
  const preview = p.type === 'slack' ? slackPreview(p.body, label) : p.type === 'teams' ? teamsPreview(p.body, label) : undefined;
  const raw = `<pre>${escapeHtml(prettyPayload(p.body))}</pre>`;
  return `<section class="payload"><h5>${escapeHtml(p.target)} <span class="muted">${escapeHtml(p.type)} · ${escapeHtml(p.kind)} · ${escapeHtml(p.contentType)}</span></h5>
${preview ? `${preview}<details><summary>Raw payload</summary>${raw}</details>` : raw}</section>`;
};

// ── Replay report ────────────────────────────────────────────────────────────
const coverageTable = (id: string, caption: string, keyName: string, rows: readonly CoverageRow[], targets: readonly string[]): string => `
<div class="scroll"><table class="matrix" id="${id}">
<caption class="muted" style="text-align:left;padding:4px 8px">${escapeHtml(caption)}</caption>
<thead><tr><th scope="col">${escapeHtml(keyName)}</th><th scope="col" class="num">findings</th>${targets.map((t) => `<th scope="col" class="num">${escapeHtml(t)}</th>`).join('')}<th scope="col">note</th></tr></thead>
<tbody>${rows
  .map((row) => {
    const flags = [
      row.reachesNothing ? '<span class="flag">reaches nothing</span>' : row.defaultOnly ? '<span class="flag">default only</span>' : '',
      row.suppressed > 0 ? `<span class="muted">${row.suppressed} suppressed</span>` : '',
      row.viaDefault > 0 && !row.defaultOnly ? `<span class="muted">${row.viaDefault} via default</span>` : '',
    ].filter(Boolean);
    const cls = row.reachesNothing ? 'flag-nothing' : row.defaultOnly ? 'flag-default' : '';
    return `<tr data-row="${id}" data-text="${escapeHtml(row.key.toLowerCase())}" data-key="${escapeHtml(row.key)}"${cls ? ` class="${cls}"` : ''}><th scope="row">${escapeHtml(row.key)}</th><td class="num">${row.findings}</td>${targets
      .map((t) => {
        const n = row.counts[t] ?? 0;
        return n > 0 ? `<td class="hit" data-target="${escapeHtml(t)}">● ${n}</td>` : `<td class="miss" data-target="${escapeHtml(t)}"><span aria-hidden="true">·</span><span hidden>0</span></td>`;
      })
      .join('')}<td>${flags.join(' · ')}</td></tr>`;
  })
  .join('\n')}</tbody></table></div>`;

const STATUS_HEADINGS: Record<DeliveryStatus, string> = { sent: 'sent', rendered: 'rendered only', failed: 'failed', held: 'held for digest', duplicate: 'duplicate' };

/** What became of each target's deliveries, as the terminal summary and `--summary-json` count them. */
const deliveryTable = (data: ReportData): string =>
  data.deliveries.length === 0
    ? ''
    : `<h3>Deliveries per target</h3><p class="muted">Findings per target: sent (the target has them), only rendered (network targets without <code>--send</code>, everything under <code>--dry-run</code>), failed, held for a digest, or already delivered earlier in the run.</p>
<table id="deliveries"><thead><tr><th scope="col">target</th>${DELIVERY_STATUSES.map((s) => `<th scope="col" class="num">${STATUS_HEADINGS[s]}</th>`).join('')}</tr></thead><tbody>${data.deliveries
        .map((d) => `<tr data-delivery="${escapeHtml(d.target)}"><th scope="row">${escapeHtml(d.target)}</th>${DELIVERY_STATUSES.map((s) => `<td class="num${s === 'failed' && d.counts[s] > 0 ? ' bad' : ''}" data-status="${s}">${d.counts[s]}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`;

const groupTable = (data: ReportData): string => `
<div class="scroll"><table id="groups-table" class="groups">
<thead><tr><th scope="col" class="num">findings</th><th scope="col">severity</th><th scope="col">finding type</th><th scope="col">outcome</th><th scope="col">routes</th><th scope="col">targets</th><th scope="col" class="num">accounts</th><th scope="col" class="num">regions</th><th scope="col">example</th></tr></thead>
<tbody>${data.groups
  .map((g) => {
    const text = [g.type, g.outcome, g.severityLabel, ...g.routes, ...g.targets].filter(Boolean).join(' ').toLowerCase();
    return `<tr data-row="group" data-n="${g.findings}" data-severity="${g.severityLabel ?? ''}" data-outcome="${escapeHtml(g.outcome)}" data-targets="${escapeHtml(g.targets.join(' '))}" data-text="${escapeHtml(text)}"><td class="num">${g.findings}</td><td>${severityBadge(g.severityLabel)}</td><th scope="row" class="t-type">${escapeHtml(g.type)}</th><td>${outcomeBadge(g.outcome)}</td><td>${chips(g.routes)}</td><td>${chips(g.targets)}</td><td class="num">${g.accounts}</td><td class="num">${g.regions}</td><td>${g.example ? `<a href="#${g.example}">${g.example}</a>` : '<span class="muted">—</span>'}</td></tr>`;
  })
  .join('\n')}</tbody></table></div>`;

const findingRow = (f: FindingView): string => {
  const r = f.record;
  const text = [r.source, r.findingId, r.type, r.outcome, r.reason, ...r.routes, ...r.targets, f.finding?.title, f.finding?.accountId, f.finding?.accountName, f.finding?.region, f.finding?.resourceType, f.finding?.resourceSummary, f.severityLabel]
    .filter((x) => x !== null && x !== undefined && x !== '')
    .join(' ')
    .toLowerCase();
  const account = f.finding ? (f.finding.accountName ? `${f.finding.accountName} (${f.finding.accountId})` : f.finding.accountId) : '';
  const d = f.decision;
  const trace = d
    ? `<ol class="trace">${d.trace
        .map((s) => `<li class="${s.matched ? 'hit' : 'miss'}" style="padding-left:${s.depth * 18}px">${s.matched ? '✓ matched' : '✗ no match'} <b>${escapeHtml(s.route)}</b>${s.failed ? ` — failed: ${escapeHtml(s.failed)}` : ''}</li>`)
        .join('')}${d.usedDefault ? '<li class="hit">→ no route matched: default targets</li>' : ''}${d.suppression ? `<li class="hit">→ suppressed by <b>${escapeHtml(d.suppression.name)}</b>: ${escapeHtml(d.suppression.reason)}${d.suppression.owner ? ` (owner ${escapeHtml(d.suppression.owner)})` : ''}</li>` : ''}${d.quieted
        .map((q) => `<li>→ not notified: ${escapeHtml(q.target)} (${escapeHtml(q.reason)})</li>`)
        .join('')}${d.refused.map((q) => `<li>→ refused: ${escapeHtml(q.target)} (${escapeHtml(q.reason)})</li>`).join('')}</ol>`
    : '<p class="muted">No routing decision: the event was not a finding the router accepts.</p>';
  const meta: [string, string][] = [
    ['source', escapeHtml(r.source)],
    ['finding id', escapeHtml(r.findingId ?? '—')],
    ['type', escapeHtml(r.type ?? '—')],
    ['severity', severityBadge(f.severityLabel, r.severity)],
    ...(f.finding
      ? ([
          ['title', escapeHtml(f.finding.title)],
          ['account', escapeHtml(account)],
          ['region', escapeHtml(f.finding.region)],
          ['resource', `${escapeHtml(f.finding.resourceSummary)} <span class="muted">(${escapeHtml(f.finding.resourceType)})</span>`],
          ['count', escapeHtml(f.finding.count)],
          ...(f.finding.actor ?? []).map(({ label, value }): [string, string] => [label.toLowerCase(), escapeHtml(value)]),
        ] as [string, string][])
      : []),
    ['outcome', outcomeBadge(r.outcome)],
    ['routes', chips(r.routes)],
    ['targets', chips(r.targets)],
    ...(r.reason ? ([['reason', escapeHtml(r.reason)]] as [string, string][]) : []),
  ];
  return `<details class="finding" id="${f.anchor}" data-row="finding" data-severity="${f.severityLabel ?? ''}" data-outcome="${escapeHtml(r.outcome)}" data-account="${escapeHtml(f.finding?.accountId ?? '')}" data-targets="${escapeHtml(r.targets.join(' '))}" data-text="${escapeHtml(text)}">
<summary>${severityBadge(f.severityLabel, r.severity)}<span><span class="t-type">${escapeHtml(r.type ?? r.source)}</span><span class="t-title">${escapeHtml(f.finding?.title ?? r.reason ?? '')}</span></span><span class="muted">${escapeHtml(account)}${f.finding ? ` · ${escapeHtml(f.finding.region)}` : ''}</span>${outcomeBadge(r.outcome)}<span>${chips(r.targets)}</span></summary>
<div class="body">
<dl class="meta">${meta.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
<h4>Decision trace</h4>${trace}
${f.payloads.length > 0 ? `<h4>Messages (${f.payloads.length})</h4><div class="payloads">${[...f.payloads].sort((a, b) => kindRank(a.kind) - kindRank(b.kind)).map((p) => payloadView(p, f.severityLabel)).join('\n')}</div>` : ''}
</div></details>`;
};

/** Chat previews first, then tickets, SIEM and local output. */
const kindRank = (kind: string): number => ['chat', 'ticket', 'siem', 'local'].indexOf(kind) + 1 || 9;

const renderReportHtml = (data: ReportData): string => {
  const targetNames = data.targets.map((t) => t.name);
  const outcomeCard = (o: string, cls: string) =>
    `<div class="card ${cls}" data-count="${o}"><span class="n">${data.summary.outcomes[o as keyof typeof data.summary.outcomes]}</span><span class="l">${o}</span></div>`;
  const maxCell = Math.max(1, ...data.severityTargets.flatMap((row) => Object.values(row.counts)));
  const defaultOnly = data.coverage.byType.filter((r) => r.defaultOnly && !r.reachesNothing).length;
  const nothing = data.coverage.byType.filter((r) => r.reachesNothing).length;
  const reasons = (title: string, rows: { reason: string; count: number }[], unlisted: number) =>
    rows.length === 0 ? '' : `<h3>${title}</h3><table><thead><tr><th class="num">count</th><th>reason</th></tr></thead><tbody>${rows.map((r) => `<tr><td class="num">${r.count}</td><td>${escapeHtml(r.reason)}</td></tr>`).join('')}</tbody></table>${unlistedNote(unlisted, 'more reasons')}`;
  const sampled = data.findings.length < data.summary.total;

  const header = `<h1>Routing report</h1>
<p>${data.summary.total} events replayed through <b>${escapeHtml(data.routesFile)}</b> · generated ${escapeHtml(data.generatedAt)} · default targets: ${escapeHtml(data.defaultTargets.join(', ') || 'none')}</p>
<nav class="toc" aria-label="Sections"><a href="#summary">Summary</a><a href="#severity">Severity × target</a><a href="#coverage">Coverage</a><a href="#groups">Groups</a><a href="#findings">Findings</a></nav>`;

  const body = `
<section id="summary" aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2>
<div class="cards"><div class="card" data-count="total"><span class="n">${data.summary.total}</span><span class="l">events</span></div>
${outcomeCard('routed', 'ok')}${outcomeCard('suppressed', 'info')}${outcomeCard('rejected', 'bad')}${outcomeCard('ignored', '')}${outcomeCard('failed', 'bad')}
<div class="card warn" data-count="default-only"><span class="n">${defaultOnly}</span><span class="l">types reaching only the default</span></div>
<div class="card warn" data-count="reaches-nothing"><span class="n">${nothing}</span><span class="l">types reaching nothing</span></div></div>
${deliveryTable(data)}
${reasons('Rejected', data.rejected, data.unlisted.rejected)}${reasons('Suppressed', data.suppressed, data.unlisted.suppressed)}
${data.failed.length === 0 ? '' : `<h3>Failed deliveries</h3><table><tbody>${data.failed.map((f) => `<tr><td>${escapeHtml(f.source)}</td><td>${escapeHtml(f.reason)}</td></tr>`).join('')}</tbody></table>${unlistedNote(data.unlisted.failed, 'more failed events')}`}
${data.skipped.count === 0 ? '' : `<h3 id="skipped">Skipped files (${data.skipped.count})</h3><table><tbody>${data.skipped.first.map((s) => `<tr><td>${escapeHtml(s.source)}</td><td>${escapeHtml(s.why)}</td></tr>`).join('')}</tbody></table>${unlistedNote(data.skipped.count - data.skipped.first.length, 'more skipped files')}`}
</section>

<section id="severity" aria-labelledby="h-severity"><h2 id="h-severity">Findings by severity × target</h2>
<p class="muted">Routed (or failed) findings per target, as in the terminal summary: routed to the target, whether sent, only rendered or failed (see Deliveries per target). Suppressed findings are counted in the coverage matrix.</p>
<table id="severity-targets"><thead><tr><th scope="col">severity</th><th scope="col" class="num">findings</th>${targetNames.map((t) => `<th scope="col" class="bar-cell">${escapeHtml(t)}</th>`).join('')}</tr></thead>
<tbody>${data.severityTargets
  .map(
    (row) => `<tr data-severity="${row.severity}"><th scope="row">${severityBadge(row.severity)}</th><td class="num">${row.findings}</td>${targetNames
      .map((t) => {
        const n = row.counts[t] ?? 0;
        return `<td class="bar-cell" data-target="${escapeHtml(t)}"><span class="count">${n}</span><span class="bar" style="width:${Math.round((n / maxCell) * 100)}%"></span></td>`;
      })
      .join('')}</tr>`,
  )
  .join('\n')}</tbody></table>
</section>

<section id="coverage" aria-labelledby="h-coverage"><h2 id="h-coverage">Coverage: what reaches each target</h2>
<p class="muted">● n = findings of that kind reaching the target (suppressed findings count at their audit targets); · = none. Rows flagged <span class="flag">default only</span> matched no route and reach only the default targets; <span class="flag">reaches nothing</span> go nowhere.</p>
<h3>By resource type</h3>
${coverageTable('matrix-resource', 'Resource types × targets', 'resource type', data.coverage.byResource, targetNames)}${unlistedNote(data.unlisted.byResource, 'more resource types')}
<h3>By finding type</h3>
${coverageTable('matrix-type', `${data.coverage.byType.length + data.unlisted.byType} finding types × targets`, 'finding type', data.coverage.byType, targetNames)}${unlistedNote(data.unlisted.byType, 'more finding types')}
</section>

${filterBox(
  [
    select('severity', 'Severity', ['critical', 'high', 'medium', 'low'].map((s) => ({ value: s, label: severityTitle(s as SeverityLabel) }))),
    select('outcome', 'Outcome', OUTCOMES.map((o) => ({ value: o, label: o }))),
    select('account', 'Account', data.accounts.map((a) => ({ value: a.id, label: a.label }))),
    select('target', 'Target', targetNames.map((t) => ({ value: t, label: t }))),
  ].join(''),
  'type, account, region, route, id…',
  sampled ? 'detailed findings' : 'findings',
  true,
)}
<section id="groups" aria-labelledby="h-groups"><h2 id="h-groups">Every finding, grouped</h2>
<p class="muted">All ${data.summary.total - data.summary.outcomes.rejected - data.summary.outcomes.ignored} findings by type, severity, outcome, routes and targets, largest group first${data.unlisted.groups > 0 ? ` (the ${data.groups.length} largest of ${data.groups.length + data.unlisted.groups} groups)` : ''}. The filters apply here too (except account).</p>
${groupTable(data)}${unlistedNote(data.unlisted.groups, 'smaller groups')}
</section>

<section id="findings" aria-labelledby="h-findings"><h2 id="h-findings">Findings (${sampled ? `${data.findings.length} of ${data.summary.total} in detail` : data.findings.length})</h2>
<p class="muted" id="sample-note">${
  sampled
    ? `A large replay is shown in detail for a sample of ${data.findings.length} of ${data.summary.total} events: the first ${Math.floor(data.limits.detailed / 2)} in input order, then the first of each further group above, up to ${data.limits.detailed}. Every count, matrix and group on this page covers all ${data.summary.total}; <code>replay --json</code> lists every event. `
    : ''
}Open a finding to see its decision trace and every rendered message.</p>
<div id="finding-list">
${data.findings.map(findingRow).join('\n')}
</div>
</section>`;
  return page(`Routing report — ${data.routesFile}`, header, body);
};

// ── Routing diff ─────────────────────────────────────────────────────────────
const diffRow = (kind: 'add' | 'del' | 'chg', f: ChangedFinding, extra = ''): string => {
  const mark = kind === 'add' ? ['+', 'added'] : kind === 'del' ? ['−', 'removed'] : ['!', 'changed'];
  const text = [f.type, f.source, f.findingId, f.accountId, f.accountName ?? '', f.region, f.title, f.severityLabel, ...f.old.targets, ...f.new.targets].join(' ').toLowerCase();
  const account = f.accountName ? `<span class="acct-name">${escapeHtml(f.accountName)}</span> <span class="muted">(${escapeHtml(f.accountId)})</span>` : escapeHtml(f.accountId);
  return `<tr class="${kind}" data-row="finding" data-severity="${f.severityLabel}" data-text="${escapeHtml(text)}"><td><span class="mk mk-${kind}" title="${mark[1]}">${mark[0]}</span><span hidden> ${mark[1]}</span></td><td>${severityBadge(f.severityLabel, f.severity)}</td><td><span class="t-type">${escapeHtml(f.type)}</span><span class="t-title">${escapeHtml(f.title)}</span></td><td class="acct">${account} · ${escapeHtml(f.region)}</td><td class="muted">${escapeHtml(f.source)}</td>${extra ? `<td class="arrow">${extra}</td>` : ''}</tr>`;
};

const diffTable = (rows: string, extraHeader?: string) =>
  `<table class="diff"><thead><tr><th><span hidden>change</span></th><th>severity</th><th>finding type</th><th>account · region</th><th>source</th>${extraHeader ? `<th>${extraHeader}</th>` : ''}</tr></thead><tbody>${rows}</tbody></table>`;

const routeGroupHtml = (kind: 'add' | 'del', g: RouteGroup) =>
  `<h4>${kind === 'add' ? 'now via' : 'was via'} ${escapeHtml(g.via)} · ${g.findings.length}</h4>${diffTable(g.findings.map((f) => diffRow(kind, f)).join(''))}`;

const arrow = (a: readonly string[], b: readonly string[]) => `${chips(a)} → ${chips(b)}`;

/** The routes file change itself, as `diff -u` shows it; every line escaped. */
const routesChangeHtml = (data: DiffData): string => {
  const change = data.routesChange!;
  const lines = change.hunks.flatMap((h) => [
    `<span class="yl-hunk">@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@</span>`,
    ...h.lines.map((l) => `<span class="yl-${l.kind === '+' ? 'add' : l.kind === '-' ? 'del' : 'ctx'}">${l.kind === ' ' ? ' ' : escapeHtml(l.kind)}${escapeHtml(l.text)}</span>`),
  ]);
  return `<section id="yaml" aria-labelledby="h-yaml"><h2 id="h-yaml">The routes file change</h2>
<p class="muted"><span class="mk mk-add">+${change.added}</span> <span class="mk mk-del">−${change.removed}</span> lines · secrets and URL credentials masked</p>
${change.hunks.length === 0 ? '<p>The two files have the same text.</p>' : `<pre class="yaml-diff" aria-label="unified diff of the routes files"><span class="yl-file">--- ${escapeHtml(data.oldLabel)}</span>\n<span class="yl-file">+++ ${escapeHtml(data.newLabel)}</span>\n${lines.join('\n')}</pre>`}</section>`;
};

const renderDiffHtml = (data: DiffData): string => {
  const c = data.counts;
  const card = (key: string, n: number, label: string, cls: string) => `<div class="card ${cls}" data-count="${key}"><span class="n">${n}</span><span class="l">${label}</span></div>`;
  const header = `<h1>Routing diff</h1>
<p><b>${escapeHtml(data.oldLabel)}</b> → <b>${escapeHtml(data.newLabel)}</b> · ${data.events} events replayed (rejected ${data.skipped.rejected}, ignored ${data.skipped.ignored})</p>`;
  const status = (title: string, groups: DiffData['nowSuppressed']) =>
    groups
      .map((g) => `<h3>${title} by ${escapeHtml(g.name)} · ${g.findings.length}</h3>${g.detail ? `<p class="muted">${escapeHtml(g.detail)}</p>` : ''}${diffTable(g.findings.map((f) => diffRow('chg', f, arrow(f.old.targets, f.new.targets))).join(''), 'targets')}`)
      .join('');
  const fallback = (title: string, findings: ChangedFinding[]) =>
    findings.length === 0 ? '' : `<h3>${title} · ${findings.length}</h3>${diffTable(findings.map((f) => diffRow('chg', f, arrow(f.old.routes, f.new.routes))).join(''), 'routes')}`;
  const body = `
<section id="summary" aria-labelledby="h-summary"><h2 id="h-summary">Plan</h2>
<p class="plan" id="plan">${escapeHtml(planLine(data))}</p>
<div class="cards">${card('changed', c.changed, 'findings change', c.changed > 0 ? 'warn' : 'ok')}${card('gained', c.gained, 'gain a target', 'ok')}${card('lost', c.lost, 'lose a target', 'bad')}${card('now-suppressed', c.nowSuppressed, 'now suppressed', 'info')}${card('now-default', c.nowDefault, 'now dropped to default', 'warn')}${c.noLongerSuppressed > 0 ? card('no-longer-suppressed', c.noLongerSuppressed, 'no longer suppressed', 'info') : ''}${c.noLongerDefault > 0 ? card('no-longer-default', c.noLongerDefault, 'no longer default-only', 'ok') : ''}</div>
</section>
${data.changed.length === 0 ? '' : filterBox('', 'type, account, region, source…', 'changed rows')}
${data.targets.length === 0 ? '' : `<section id="targets" aria-labelledby="h-targets"><h2 id="h-targets">By target</h2>${data.targets
  .map((t) => `<section class="target" data-target="${escapeHtml(t.target)}"><h3>${escapeHtml(t.target)} <span class="muted">(${escapeHtml(t.type)})</span> <span class="mk mk-add">+${t.addedCount}</span> <span class="mk mk-del">−${t.removedCount}</span></h3>${t.added.map((g) => routeGroupHtml('add', g)).join('')}${t.removed.map((g) => routeGroupHtml('del', g)).join('')}</section>`)
  .join('')}</section>`}
${data.nowSuppressed.length + data.noLongerSuppressed.length + data.nowDefault.length + data.noLongerDefault.length === 0 ? '' : `<section id="status" aria-labelledby="h-status"><h2 id="h-status">Suppression and default</h2>${status('Now suppressed', data.nowSuppressed)}${status('No longer suppressed', data.noLongerSuppressed)}${fallback('Now dropped to default (no route matches)', data.nowDefault)}${fallback('No longer default-only (a route matches now)', data.noLongerDefault)}</section>`}
${data.routesChange ? routesChangeHtml(data) : ''}`;
  return page(`Routing diff — ${data.oldLabel} → ${data.newLabel}`, header, body);
};

export { renderReportHtml, renderDiffHtml, escapeHtml, mrkdwnToHtml, teamsMarkdownToHtml, SCRIPT, CSP };
