// Progress events of a turn, rendered from their fields alone: a workflow's step events
// ({event, step, status, percent, ...}) and a single query's stages ({stage, ...}) alike, so
// a new kind of event shows up without a change here.
import { el } from './dom.js';
import { words } from './format.js';

const SHOWN = ['step', 'status', 'message'];

/** The turn's progress log: open while the turn runs (`settle` folds it once answered). */
export function progressLog() {
  const bar = el('progress', { max: '100', value: '0', 'aria-label': 'Share of steps done', hidden: true });
  const list = el('ol', {});
  const log = el('details', { class: 'progress', open: true }, el('summary', { text: 'Progress' }), bar, list);
  return {
    node: log,
    add: (event) => addProgress(list, bar, event),
    settle: () => {
      if (!list.children.length) log.remove();
      log.open = false;
      const count = list.children.length;
      log.querySelector('summary').textContent = `Progress (${count} ${count === 1 ? 'event' : 'events'})`;
    },
  };
}

function describe(event) {
  const kind = event.stage ?? event.event ?? 'progress';
  const parts = SHOWN.map((name) => event[name]).filter((v) => v !== null && v !== undefined && v !== '');
  if (typeof event.duration_ms === 'number') parts.push(`${Math.round(event.duration_ms)} ms`);
  if (typeof event.rows === 'number') parts.push(`${event.rows} rows`);
  if (event.error) parts.push(`error: ${typeof event.error === 'string' ? event.error : JSON.stringify(event.error)}`);
  return parts.length ? `${words(kind)}: ${parts.join(' · ')}` : words(kind);
}

function addProgress(list, bar, event) {
  list.append(el('li', { dataset: { kind: String(event.stage ?? event.event ?? 'progress') }, text: describe(event) }));
  if (typeof event.percent === 'number') {
    bar.hidden = false;
    bar.value = event.percent;
  }
}
