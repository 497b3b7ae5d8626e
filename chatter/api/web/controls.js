// What a reader can do with an answer: refine its query (limit, sort, filter), rate it, and
// export its table. Each control calls back into the page (`actions`), which talks to the API.
import { el } from './dom.js';

let uniqueIds = 0;
const fresh = (name) => `${name}-${(uniqueIds += 1)}`;

function labelled(labelText, control) {
  const id = control.id || fresh('control');
  control.id = id;
  return el('span', { class: 'field' }, el('label', { for: id, text: labelText }), control);
}

function select(options, value) {
  return el(
    'select',
    {},
    options.map(([optionValue, text]) => el('option', { value: optionValue, text, selected: optionValue === value })),
  );
}

const short = (name) => String(name).split('.').pop().split('__')[0];

/** Refinements of a query answer (POST /refine); `query` is the answer's semantic query. */
export function refineControls(response, actions) {
  const query = response.answer && response.answer.query;
  if (!query || response.message_type !== 'answer') return null;
  const base = { session_id: response.session_id, message_id: response.message_id };
  const columns = response.results.columns || [];

  const limit = el('input', { type: 'number', min: '1', step: '1', value: String(query.limit ?? 10) });
  const limitOrder = select([['', 'keep the order'], ['desc', 'highest first'], ['asc', 'lowest first']], 'desc');
  const limitForm = el(
    'form',
    {
      class: 'refine-row',
      'aria-label': 'Change the row limit',
      onsubmit: (event) => {
        event.preventDefault();
        const params = { limit: Number(limit.value) };
        if (limitOrder.value) params.descending = limitOrder.value === 'desc';
        actions.refine({ ...base, type: 'change_limit', params });
      },
    },
    labelled('Top rows', limit),
    labelled('by the first measure', limitOrder),
    el('button', { type: 'submit', text: 'Apply limit' }),
  );

  const sortField = select(columns.map((c) => [c, c]), columns[columns.length - 1]);
  const sortOrder = select([['desc', 'descending'], ['asc', 'ascending']], 'desc');
  const sortForm = el(
    'form',
    {
      class: 'refine-row',
      'aria-label': 'Change the sort',
      onsubmit: (event) => {
        event.preventDefault();
        actions.refine({
          ...base,
          type: 'change_sort',
          params: { field: sortField.value, descending: sortOrder.value === 'desc' },
        });
      },
    },
    labelled('Sort by', sortField),
    labelled('order', sortOrder),
    el('button', { type: 'submit', text: 'Sort' }),
  );

  const dimensions = (query.dimensions || []).map(short);
  let filterForm = null;
  if (dimensions.length) {
    const field = select(dimensions.map((d) => [d, d]), dimensions[0]);
    const op = select(['=', '!=', '>', '>=', '<', '<=', 'contains'].map((o) => [o, o]), '=');
    const value = el('input', { type: 'text', required: true, autocomplete: 'off' });
    filterForm = el(
      'form',
      {
        class: 'refine-row',
        'aria-label': 'Add a filter',
        onsubmit: (event) => {
          event.preventDefault();
          actions.refine({ ...base, type: 'add_filter', params: { field: field.value, op: op.value, value: value.value } });
        },
      },
      labelled('Only where', field),
      labelled('is', op),
      labelled('value', value),
      el('button', { type: 'submit', text: 'Add filter' }),
    );
  }
  return el('details', { class: 'refine' }, el('summary', { text: 'Refine' }), limitForm, sortForm, filterForm);
}

/** Thumbs up or down with an optional comment (POST /feedback). */
export function feedbackControls(response, actions) {
  const comment = el('input', { type: 'text', maxlength: '2000', autocomplete: 'off' });
  const status = el('span', { class: 'status', role: 'status' });
  const rate = (rating) => async () => {
    status.textContent = 'Sending…';
    try {
      await actions.feedback({
        session_id: response.session_id,
        message_id: response.message_id,
        rating,
        ...(comment.value.trim() ? { comment: comment.value.trim() } : {}),
      });
      status.textContent = `Feedback recorded (${rating}). Thank you.`;
    } catch (err) {
      status.textContent = `Feedback not recorded: ${err.message}`;
    }
  };
  return el(
    'div',
    { class: 'feedback', role: 'group', 'aria-label': 'Feedback on this answer' },
    labelled('Comment (optional)', comment),
    el('button', { type: 'button', class: 'quiet', 'aria-label': 'Helpful', onclick: rate('positive') }, '👍 Helpful'),
    el('button', { type: 'button', class: 'quiet', 'aria-label': 'Not helpful', onclick: rate('negative') }, '👎 Not helpful'),
    status,
  );
}

/** Export the answer's table as CSV, JSON or Parquet. */
export function exportControls(response, actions) {
  if (!(response.results.columns || []).length) return null;
  const status = el('span', { class: 'status', role: 'status' });
  const save = (format) => async () => {
    status.textContent = '';
    try {
      await actions.exportTable(response.session_id, response.message_id, format);
    } catch (err) {
      status.textContent = `Export failed: ${err.message}`;
    }
  };
  return el(
    'div',
    { class: 'export', role: 'group', 'aria-label': 'Export the table' },
    el('span', { text: 'Export:' }),
    ['csv', 'json', 'parquet'].map((format) =>
      el('button', { type: 'button', class: 'quiet', onclick: save(format) }, format.toUpperCase()),
    ),
    status,
  );
}
