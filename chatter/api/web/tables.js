// The answer's data: its result table, the findings (every statistical test of a workflow
// run) and the insights with the evidence each cites ("findings[3]", "steps.<id>.rows[2]").
import { el } from './dom.js';
import { formatP, formatValue, words } from './format.js';

/** The result table; each cell keeps the value as sent in data-value (exports match it). */
export function resultTable(results) {
  const columns = results.columns || [];
  const rows = results.rows || [];
  if (!columns.length) return null;
  const shown = rows.length === 1 ? '1 row' : `${rows.length} rows`;
  const cut = results.truncated ? `, of ${results.row_count} or more (cut)` : '';
  const table = el(
    'table',
    { class: 'results' },
    el('caption', { text: `${shown}${cut}` }),
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col', text: c })))),
    el(
      'tbody',
      {},
      rows.map((row) =>
        el(
          'tr',
          {},
          columns.map((c) =>
            el('td', {
              text: formatValue(row[c]),
              class: typeof row[c] === 'number' ? 'number' : null,
              dataset: { value: row[c] === null || row[c] === undefined ? '' : String(row[c]) },
            }),
          ),
        ),
      ),
    ),
  );
  return el('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Result table' }, table);
}

function findingText(finding) {
  const where = finding.segment === null || finding.segment === undefined
    ? `across ${words(finding.dimension)}`
    : `${words(finding.dimension)} = ${finding.segment} vs the rest`;
  const effect = typeof finding.effect_size === 'number'
    ? `, ${words(finding.effect_size_name || 'effect size')} ${formatValue(finding.effect_size)}`
    : '';
  const p = typeof finding.p_adjusted === 'number' ? `, adjusted p ${formatP(finding.p_adjusted)}` : '';
  const verdict = finding.significant ? 'significant' : 'not significant';
  return `${words(finding.metric)} ${where}: ${words(finding.test)}${effect}${p}, n = ${formatValue(finding.n)} (${verdict})`;
}

/** Every test of the run, significant ones first; "#" is the index evidence cites. */
export function findingsSection(findings) {
  if (!findings || !findings.length) return null;
  const significant = findings.filter((f) => f.significant).length;
  const ordered = findings.map((f, index) => ({ f, index }));
  ordered.sort((a, b) => Number(b.f.significant) - Number(a.f.significant) || a.index - b.index);
  const heads = ['#', 'metric', 'dimension', 'segment', 'test', 'effect size', 'adjusted p', 'n', 'significant'];
  const table = el(
    'table',
    { class: 'findings' },
    el('thead', {}, el('tr', {}, heads.map((h) => el('th', { scope: 'col', text: h })))),
    el(
      'tbody',
      {},
      ordered.map(({ f, index }) =>
        el(
          'tr',
          { class: f.significant ? 'significant' : null },
          el('td', { class: 'number', text: String(index) }),
          el('td', { text: f.metric }),
          el('td', { text: f.dimension }),
          el('td', { text: f.segment ?? 'all levels' }),
          el('td', { text: words(f.test) }),
          el('td', { class: 'number', text: formatValue(f.effect_size) }),
          el('td', { class: 'number', text: formatP(f.p_adjusted) }),
          el('td', { class: 'number', text: formatValue(f.n) }),
          el('td', { text: f.significant ? 'yes' : 'no' }),
        ),
      ),
    ),
  );
  return el(
    'details',
    { class: 'findings-section', open: true },
    el('summary', { text: `Findings: ${findings.length} tests, ${significant} significant` }),
    el('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Findings' }, table),
  );
}

const FINDING_REF = /^findings\[(\d+)\]$/;
const ROW_REF = /^steps\.([^.]+)\.rows\[(\d+)\]$/;

/** What one evidence reference points at, in words. */
function evidenceText(reference, findings, steps) {
  const finding = FINDING_REF.exec(reference);
  if (finding) {
    const found = findings[Number(finding[1])];
    return found ? `Finding #${finding[1]}: ${findingText(found)}` : reference;
  }
  const row = ROW_REF.exec(reference);
  if (row) {
    const step = steps.find((s) => s.id === row[1]);
    const values = step && step.rows ? step.rows[Number(row[2])] : undefined;
    if (!values) return `${words(row[1])}, row ${row[2]} (not among the rows sent)`;
    const pairs = Object.entries(values).map(([k, v]) => `${k}: ${formatValue(v)}`);
    return `${words(row[1])}, row ${row[2]}: ${pairs.join(', ')}`;
  }
  return reference;
}

/** The insights, each with the evidence it cites, resolved to what it says. */
export function insightsSection(insights, findings, steps) {
  if (!insights || !insights.length) return null;
  return el(
    'section',
    { class: 'insights', 'aria-label': 'Insights' },
    el('h4', { text: 'Insights' }),
    el(
      'ol',
      {},
      insights.map((insight) => {
        const evidence = insight.evidence || [];
        return el(
          'li',
          {},
          el('p', { text: insight.text }),
          evidence.length
            ? el(
                'details',
                { class: 'evidence' },
                el('summary', { text: `Evidence (${evidence.length})` }),
                el('ul', {}, evidence.map((ref) => el('li', { text: evidenceText(ref, findings || [], steps) }))),
              )
            : null,
        );
      }),
    ),
  );
}
