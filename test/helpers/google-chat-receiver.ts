import { createServer } from 'node:http';
import { faulted, listenLoopback, readBody, type ForcedAnswer, type ReceivedRequest } from './receiver-kit.ts';

/**
 * A loopback Google Chat space webhook that checks requests the way the Chat API does and keeps
 * the space's threads:
 *
 * - `POST /v1/spaces/{space}/messages?key=…&token=…`: an unknown key or token, a wrong space or
 *   method are refused (Google's error shapes below); the body must be JSON of
 *   `application/json`, at most 32,000 bytes, with only known message fields (`text`,
 *   `cardsV2`, `thread`), `text` and/or `cardsV2`, and cards of known widgets
 *   (`textParagraph`, `decoratedText`, `buttonList`, with `openLink` URLs over https).
 * - Threads: with `messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD` (or `…_OR_FAIL`) a
 *   `thread.threadKey` names the thread the message joins; without it every message starts
 *   a new thread and the key is ignored (MESSAGE_REPLY_OPTION_UNSPECIFIED).
 * - Answers: 200 with the created message (`name`, `thread.name`, `space`, `createTime` and
 *   what was sent); errors `{"error":{"code":…,"message":…,"status":…}}`, e.g. 400
 *   INVALID_ARGUMENT, 429 RESOURCE_EXHAUSTED; `answer` forces one (or 'hang' / 'reset'). The
 *   envelope and status names are Google's; the message texts are close to Google's, not copies.
 */
interface ChatMessage {
  name: string;
  thread: string;
  text?: string;
  cardsV2?: unknown[];
}

interface GoogleChatReceiver {
  /** The webhook URL with the receiver's key and token. */
  url: string;
  origin: string;
  space: string;
  key: string;
  token: string;
  requests: ReceivedRequest[];
  messages: ChatMessage[];
  answer: ForcedAnswer | 'hang' | 'reset' | undefined;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 32_000;
const MESSAGE_FIELDS = new Set(['text', 'cardsV2', 'thread']);
const WIDGETS = new Set(['textParagraph', 'decoratedText', 'buttonList']);
const REPLY_OPTIONS = new Set(['MESSAGE_REPLY_OPTION_UNSPECIFIED', 'REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD', 'REPLY_MESSAGE_OR_FAIL']);

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** A Google API error body. */
const googleError = (code: number, message: string): string => JSON.stringify({ error: { code, message, status: STATUS_NAMES[code] ?? 'UNKNOWN' } }, null, 2);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The first problem with a card, worded as the proto-JSON parser words unknown fields. */
const cardProblem = (entry: unknown, index: number): string | undefined => {
  if (!isRecord(entry) || !isRecord(entry.card)) return `cards_v2[${index}].card: required`;
  const sections = entry.card.sections;
  if (!Array.isArray(sections) || sections.length === 0) return `cards_v2[${index}].card.sections: required`;
  for (const section of sections) {
    if (!isRecord(section) || !Array.isArray(section.widgets)) return `cards_v2[${index}].card.sections[].widgets: required`;
    for (const widget of section.widgets) {
      const kinds = isRecord(widget) ? Object.keys(widget) : [];
      const kind = kinds[0];
      if (kinds.length !== 1 || kind === undefined || !WIDGETS.has(kind)) return `Invalid JSON payload received. Unknown name "${kinds.join(',')}" at 'message.cards_v2[${index}].card.sections[0].widgets[0]': Cannot find field.`;
      const body = (widget as Record<string, Record<string, unknown>>)[kind]!;
      if (kind === 'buttonList') {
        for (const button of (body.buttons as unknown[]) ?? []) {
          const url = isRecord(button) && isRecord(button.onClick) && isRecord(button.onClick.openLink) ? button.onClick.openLink.url : undefined;
          if (typeof url !== 'string' || !url.startsWith('https://')) return 'button openLink.url: an https URL is required';
        }
      } else if (typeof body.text !== 'string') return `${kind}.text: required`;
    }
  }
  return undefined;
};

const startGoogleChatReceiver = async (options: { space?: string; key?: string; token?: string } = {}): Promise<GoogleChatReceiver> => {
  const space = options.space ?? 'AAAAspace01';
  const key = options.key ?? 'AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI';
  const token = options.token ?? 'z7pQk0a9yBn3_Xw1VbUc4Rt8Ld2Fh6Jg5Ms0Nq9Pe7Y%3D';
  let threads = 0;
  const threadByKey = new Map<string, string>();
  const state: Omit<GoogleChatReceiver, 'url' | 'origin' | 'close'> = { space, key, token, requests: [], messages: [], answer: undefined };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    state.requests.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, headers: req.headers, body: body.toString('utf8') });
    const reply = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(text);
    };
    if (faulted(req, state.answer)) return;
    if (state.answer !== undefined) return reply(state.answer.status, state.answer.body ?? '');
    if (url.pathname !== `/v1/spaces/${space}/messages`) return reply(404, googleError(404, 'Requested entity was not found.'));
    if (req.method !== 'POST') return reply(404, googleError(404, 'Requested entity was not found.'));
    if (url.searchParams.get('key') !== key) return reply(400, googleError(400, 'API key not valid. Please pass a valid API key.'));
    if (url.searchParams.get('token') !== decodeURIComponent(token)) return reply(401, googleError(401, 'Request had invalid authentication credentials.'));
    const replyOption = url.searchParams.get('messageReplyOption') ?? 'MESSAGE_REPLY_OPTION_UNSPECIFIED';
    if (!REPLY_OPTIONS.has(replyOption)) return reply(400, googleError(400, `Invalid value at 'message_reply_option' (type.googleapis.com/google.chat.v1.CreateMessageRequest.MessageReplyOption), "${replyOption}"`));
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return reply(400, googleError(400, 'Invalid JSON payload received. Unexpected token.'));
    if (body.length > MAX_MESSAGE_BYTES) return reply(400, googleError(400, `Message size exceeds the limit of ${MAX_MESSAGE_BYTES} bytes.`));
    let message: unknown;
    try {
      message = JSON.parse(body.toString('utf8'));
    } catch {
      return reply(400, googleError(400, 'Invalid JSON payload received. Unexpected token.'));
    }
    if (!isRecord(message)) return reply(400, googleError(400, 'Invalid JSON payload received. Expected an object.'));
    const unknown = Object.keys(message).find((field) => !MESSAGE_FIELDS.has(field));
    if (unknown !== undefined) return reply(400, googleError(400, `Invalid JSON payload received. Unknown name "${unknown}" at 'message': Cannot find field.`));
    const cards = message.cardsV2;
    if (message.text === undefined && cards === undefined) return reply(400, googleError(400, 'Message cannot be empty. Discarded message ID: abc.'));
    if (message.text !== undefined && typeof message.text !== 'string') return reply(400, googleError(400, "Invalid value at 'message.text' (TYPE_STRING)"));
    if (cards !== undefined) {
      if (!Array.isArray(cards)) return reply(400, googleError(400, "Invalid value at 'message.cards_v2'"));
      const problem = cards.map(cardProblem).find((p) => p !== undefined);
      if (problem !== undefined) return reply(400, googleError(400, problem));
    }
    const threadKey = isRecord(message.thread) && typeof message.thread.threadKey === 'string' ? message.thread.threadKey : undefined;
    const newThread = () => `spaces/${space}/threads/t${++threads}`;
    let thread: string;
    if (replyOption === 'MESSAGE_REPLY_OPTION_UNSPECIFIED' || threadKey === undefined) thread = newThread();
    else thread = threadByKey.get(threadKey) ?? newThread();
    if (threadKey !== undefined && replyOption !== 'MESSAGE_REPLY_OPTION_UNSPECIFIED') threadByKey.set(threadKey, thread);
    const name = `spaces/${space}/messages/m${state.messages.length + 1}.m${state.messages.length + 1}`;
    state.messages.push({ name, thread, ...(typeof message.text === 'string' ? { text: message.text } : {}), ...(Array.isArray(cards) ? { cardsV2: cards } : {}) });
    reply(
      200,
      JSON.stringify({
        name,
        sender: { name: 'users/114022495153014004089', displayName: 'GuardDuty', type: 'BOT' },
        createTime: '2026-12-05T08:00:00.000000Z',
        ...message,
        thread: { name: thread, ...(threadKey !== undefined ? { threadKey } : {}) },
        space: { name: `spaces/${space}`, type: 'ROOM', spaceType: 'SPACE' },
      }),
    );
  });
  const { origin, close } = await listenLoopback(server);
  return Object.assign(state, { origin, url: `${origin}/v1/spaces/${space}/messages?key=${key}&token=${token}`, close });
};

export { startGoogleChatReceiver, googleError };
export type { GoogleChatReceiver };
