// The chat API as the page calls it: every call sends the bearer key kept in this tab's
// sessionStorage; a failure becomes an ApiError carrying the API's own {"error": {code, message}}.

const KEY = 'chatter.apiKey';
const CHAT = 'api/v1/chat';

export const apiKey = {
  get: () => sessionStorage.getItem(KEY),
  set: (key) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  /** `document`: the body when it is a chat response (a refusal keeps its session and ids). */
  constructor(status, code, message, document = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.document = document;
  }
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the status line is all there is to say
  }
  const error = body && typeof body.error === 'object' && body.error ? body.error : {};
  return new ApiError(
    response.status,
    error.code || `http_${response.status}`,
    error.message || `${response.status} ${response.statusText}`.trim(),
    body && body.message_type ? body : null,
  );
}

async function call(path, { method = 'GET', body, accept = 'application/json', key } = {}) {
  const headers = { Authorization: `Bearer ${key ?? apiKey.get() ?? ''}`, Accept: accept };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  if (!response.ok) throw await errorOf(response);
  return response;
}

const id = (value) => encodeURIComponent(value);

export async function listSessions(key) {
  const response = await call(`${CHAT}/sessions?limit=100`, { key });
  return (await response.json()).sessions;
}

export async function getSession(sessionId) {
  return (await call(`${CHAT}/sessions/${id(sessionId)}`)).json();
}

/** A chat response; a refusal (4xx with a chat response body) is returned, not thrown. */
async function chatResponse(path, body) {
  try {
    return await (await call(path, { method: 'POST', body })).json();
  } catch (err) {
    if (err instanceof ApiError && err.document) return err.document;
    throw err;
  }
}

export function refine(body) {
  return chatResponse(`${CHAT}/refine`, body);
}

export async function sendFeedback(body) {
  return (await call(`${CHAT}/feedback`, { method: 'POST', body })).json();
}

/**
 * Ask, streaming: `onProgress` gets each progress event's data; resolves to the chat
 * response (an answer, a question back, or a refusal, which arrives as an `error` event
 * carrying the whole response).
 */
export async function ask(body, onProgress) {
  const response = await call(`${CHAT}/query`, { method: 'POST', body, accept: 'text/event-stream' });
  for await (const { event, data } of serverSentEvents(response)) {
    if (event === 'progress') onProgress(data);
    else if (event === 'answer') return data;
    else if (event === 'error') {
      if (data && data.message_type) return data;
      const error = (data && data.error) || {};
      throw new ApiError(200, error.code || 'stream_error', error.message || 'The answer failed.');
    }
  }
  throw new ApiError(200, 'stream_ended', 'The server ended the answer before it was complete.');
}

/** Server-sent events from a fetch response (EventSource cannot POST or send a key). */
async function* serverSentEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
      let event = 'message';
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':')) continue; // a keep-alive comment
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = text;
        else if (field === 'data') data.push(text);
      }
      if (data.length) yield { event, data: JSON.parse(data.join('\n')) };
    }
  }
}

/** Download an answer's table: fetched with the key, saved under the server's file name. */
export async function exportTable(sessionId, messageId, format) {
  const response = await call(
    `${CHAT}/sessions/${id(sessionId)}/messages/${id(messageId)}/export?format=${id(format)}`,
    { accept: '*/*' },
  );
  const disposition = response.headers.get('Content-Disposition') || '';
  const named = /filename="([^"]+)"/.exec(disposition);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = named ? named[1] : `chatter-${messageId}.${format}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
