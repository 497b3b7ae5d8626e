// The chat page: sign in with an API key, the caller's sessions, and the conversation of the
// open session (ask, follow up, refine, rate, export). docs/web.md describes it.
import * as api from './api.js';
import { answerSection, responseOfStored } from './answer.js';
import { el, show } from './dom.js';
import { formatTime } from './format.js';
import { progressLog } from './progress.js';

const $ = (id) => document.getElementById(id);
const page = {
  signInView: $('sign-in-view'),
  signInForm: $('sign-in'),
  keyInput: $('api-key'),
  signInError: $('sign-in-error'),
  signOut: $('sign-out'),
  chatView: $('chat-view'),
  sessionList: $('session-list'),
  sessionsEmpty: $('sessions-empty'),
  newChat: $('new-chat'),
  conversation: $('conversation'),
  askForm: $('ask'),
  question: $('question'),
  askButton: $('ask-button'),
  askError: $('ask-error'),
};
const state = { sessionId: null, busy: false };

const actions = {
  ask: (text) => askQuestion(text),
  refine: (body) => runTurn(`refine ${body.type}`, () => api.refine(body)),
  feedback: (body) => api.sendFeedback(body),
  exportTable: (sessionId, messageId, format) => api.exportTable(sessionId, messageId, format),
};

// ---- signing in and out -------------------------------------------------------------------

function showSignIn(message) {
  show(page.chatView, false);
  show(page.signOut, false);
  show(page.signInView, true);
  page.signInError.textContent = message || '';
  show(page.signInError, Boolean(message));
  page.keyInput.focus();
}

async function signIn(key) {
  try {
    const sessions = await api.listSessions(key);
    api.apiKey.set(key);
    show(page.signInView, false);
    show(page.chatView, true);
    show(page.signOut, true);
    page.keyInput.value = '';
    renderSessions(sessions);
    page.question.focus();
  } catch (err) {
    api.apiKey.clear();
    showSignIn(err.message);
  }
}

function signOut(message) {
  api.apiKey.clear();
  state.sessionId = null;
  page.conversation.replaceChildren();
  page.sessionList.replaceChildren();
  showSignIn(message);
}

/** A 401 at any point (a key revoked meanwhile) goes back to the sign-in form. */
function failed(err, where) {
  if (err instanceof api.ApiError && err.status === 401) {
    signOut(err.message);
    return;
  }
  where.textContent = err.message;
  show(where, true);
}

// ---- sessions ----------------------------------------------------------------------------

function renderSessions(sessions) {
  show(page.sessionsEmpty, sessions.length === 0);
  page.sessionList.replaceChildren(
    ...sessions.map((s) =>
      el(
        'li',
        {},
        el(
          'button',
          {
            type: 'button',
            class: 'session',
            'aria-current': s.session_id === state.sessionId ? 'true' : null,
            dataset: { sessionId: s.session_id },
            onclick: () => openSession(s.session_id),
          },
          el('span', { class: 'session-title', text: s.title || 'untitled' }),
          el('span', { class: 'session-meta', text: `${formatTime(s.updated_at)} · ${s.messages === 1 ? '1 message' : `${s.messages} messages`}` }),
        ),
      ),
    ),
  );
}

async function refreshSessions() {
  try {
    renderSessions(await api.listSessions());
  } catch (err) {
    failed(err, page.askError);
  }
}

async function openSession(sessionId) {
  if (state.busy) return;
  show(page.askError, false);
  try {
    const session = await api.getSession(sessionId);
    state.sessionId = sessionId;
    page.conversation.replaceChildren();
    for (const message of session.messages) {
      const turn = turnArticle(message.question);
      turn.append(answerSection(responseOfStored(sessionId, message), actions));
    }
    await refreshSessions();
    page.question.focus();
  } catch (err) {
    failed(err, page.askError);
  }
}

function newChat() {
  state.sessionId = null;
  page.conversation.replaceChildren();
  show(page.askError, false);
  refreshSessions();
  page.question.focus();
}

// ---- turns -------------------------------------------------------------------------------

function turnArticle(question) {
  const turn = el('article', { class: 'turn' }, el('p', { class: 'asked' }, el('span', { class: 'label', text: 'You: ' }), question));
  page.conversation.append(turn);
  return turn;
}

function setBusy(busy) {
  state.busy = busy;
  page.askButton.disabled = busy;
  page.conversation.setAttribute('aria-busy', String(busy));
}

/** One turn: `send(onProgress)` resolves to the chat response shown under `question`. */
async function runTurn(question, send) {
  if (state.busy) return;
  setBusy(true);
  show(page.askError, false);
  const turn = turnArticle(question);
  const progress = progressLog();
  turn.append(progress.node);
  turn.scrollIntoView({ block: 'start' });
  try {
    const response = await send(progress.add);
    state.sessionId = response.session_id;
    const section = answerSection(response, actions);
    turn.append(section);
    section.scrollIntoView({ block: 'nearest' });
    await refreshSessions();
  } catch (err) {
    turn.append(el('p', { class: 'error', role: 'alert', text: err.message }));
    failed(err, page.askError);
  } finally {
    progress.settle();
    setBusy(false);
  }
}

function askQuestion(text) {
  const message = text.trim();
  if (!message) return;
  const body = state.sessionId ? { message, session_id: state.sessionId } : { message };
  return runTurn(message, (onProgress) => api.ask(body, onProgress));
}

// ---- wiring ------------------------------------------------------------------------------

page.signInForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = page.keyInput.value.trim();
  if (!key) {
    showSignIn('Paste an API key first.');
    return;
  }
  signIn(key);
});
page.signOut.addEventListener('click', () => signOut(''));
page.newChat.addEventListener('click', newChat);
page.askForm.addEventListener('submit', (event) => {
  event.preventDefault(); // Enter in the question box sends it
  if (state.busy) return; // keep the text until the current answer is in
  const text = page.question.value;
  page.question.value = '';
  askQuestion(text);
  page.question.focus();
});

const saved = api.apiKey.get();
if (saved) signIn(saved);
else showSignIn('');
