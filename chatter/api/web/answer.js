// One answer on the page, from a chat response (chatter/api/schemas.py ChatResponse): what was
// understood, the answer or the question back or the refusal, then its table, SQL, chart,
// findings and insights, follow-ups, and the controls to refine, rate and export it.
import { drawChart } from './chart.js';
import { exportControls, feedbackControls, refineControls } from './controls.js';
import { el } from './dom.js';
import { words } from './format.js';
import { findingsSection, insightsSection, resultTable } from './tables.js';

const NOT_WORKFLOWS = ['query', 'clarify', 'refused'];

/**
 * A stored message of GET /sessions/{id} (its question and answer document) as the chat
 * response the API sent for it; the table an answer leads with is picked the way
 * chatter.api.conversation.primary_step picks it.
 */
export function responseOfStored(sessionId, message) {
  const answer = message.answer || {};
  const done = (answer.steps || []).filter((s) => s.status === 'completed');
  const step = answer.workflow === 'query' && done.length
    ? done[0]
    : done.find((s) => s.type === 'query' && s.rows && s.rows.length) || done.find((s) => s.rows && s.rows.length);
  let kind = 'answer';
  if (answer.error) kind = 'refusal';
  else if (answer.clarification) kind = 'clarification';
  return {
    session_id: sessionId,
    message_id: message.message_id,
    message_type: kind,
    content: answer.text || '',
    sql_query: step ? step.sql : null,
    results: step
      ? { columns: step.columns || [], rows: step.rows || [], truncated: Boolean(step.truncated), row_count: (step.rows || []).length }
      : { columns: [], rows: [], truncated: false, row_count: 0 },
    visualization: step ? step.chart : null,
    findings: answer.findings || [],
    insights: answer.insights || [],
    suggested_actions: (answer.clarification ? answer.options : answer.suggestions) || [],
    route: answer.route || null,
    workflow_result: NOT_WORKFLOWS.includes(answer.workflow) ? null : answer,
    answer,
    interpretation: answer.interpretation || null,
    database: answer.database || null,
    error: answer.error || null,
  };
}

function understood(interpretation) {
  if (!interpretation || !interpretation.text) return null;
  const unused = interpretation.unused_words || [];
  return el(
    'p',
    { class: 'understood' },
    el('span', { class: 'label', text: 'Understood as: ' }),
    el('span', { class: 'interpretation', text: interpretation.text }),
    unused.length ? el('span', { class: 'muted', text: ` (words not used: ${unused.join(', ')})` }) : null,
  );
}

function runSummary(result) {
  const steps = result.steps || [];
  const done = steps.filter((s) => s.status === 'completed').length;
  const findings = result.findings || [];
  const significant = findings.filter((f) => f.significant).length;
  const parts = [`${words(result.workflow)}: ${result.status}`, `${done} of ${steps.length} steps`];
  if (findings.length) parts.push(`${significant} of ${findings.length} tests significant`);
  return el('p', { class: 'run-summary', text: parts.join(' · ') });
}

function choices(label, options, ask, className) {
  if (!options || !options.length) return null;
  return el(
    'div',
    { class: className, role: 'group', 'aria-label': label },
    el('span', { class: 'label', text: `${label}: ` }),
    options.map((option) => el('button', { type: 'button', class: 'chip', onclick: () => ask(option) }, option)),
  );
}

function sqlSection(sql) {
  if (!sql) return null;
  return el('details', { class: 'sql' }, el('summary', { text: 'SQL' }), el('pre', {}, el('code', { text: sql })));
}

function chartSection(spec) {
  if (!spec) return null;
  const container = el('div', { class: 'chart-canvas' });
  const figure = el(
    'figure',
    { class: 'chart', tabindex: '0', 'aria-label': spec.description || 'Chart' },
    container,
    spec.description ? el('figcaption', { text: spec.description }) : null,
  );
  // drawn once the figure is on the page (vega measures its container)
  queueMicrotask(() => drawChart(container, spec));
  return figure;
}

/** The answer's section; `actions`: {ask, refine, feedback, exportTable}. */
export function answerSection(response, actions) {
  const kind = response.message_type;
  const section = el('section', { class: `answer ${kind}`, dataset: { messageId: response.message_id, kind } });
  section.append(understood(response.interpretation) || '');
  if (kind === 'refusal') {
    const message = (response.error && response.error.message) || response.content;
    section.append(el('p', { class: 'refusal-message', role: 'alert', text: message }));
    return section;
  }
  if (kind === 'clarification') {
    section.append(el('p', { class: 'question-back', text: response.content }));
    section.append(choices('Did you mean', response.suggested_actions, actions.ask, 'options') || '');
    return section;
  }
  const result = response.workflow_result;
  const steps = (response.answer && response.answer.steps) || [];
  const parts = [
    result ? runSummary(result) : null,
    insightsSection(response.insights, response.findings, steps),
    resultTable(response.results),
    sqlSection(response.sql_query),
    chartSection(response.visualization),
    findingsSection(response.findings),
    choices('Follow up', response.suggested_actions, actions.ask, 'suggestions'),
    el(
      'div',
      { class: 'answer-tools' },
      refineControls(response, actions),
      exportControls(response, actions),
      feedbackControls(response, actions),
    ),
    response.database ? el('p', { class: 'muted small', text: `Ran on ${response.database}` }) : null,
  ];
  section.append(...parts.filter(Boolean));
  return section;
}
