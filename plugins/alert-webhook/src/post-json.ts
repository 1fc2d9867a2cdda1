import { errorMessage } from '@handyrep/plugin-sdk';

/** Characters of an answer body kept for `details`. */
const BODY_EXCERPT_CHARS = 200;

/** The outcome of one POST. */
export interface PostOutcome {
  /** A 2xx answer. */
  delivered: boolean;
  /** Worth another attempt (time-out, connection error, 408, 429, 5xx). */
  retryable: boolean;
  /** HTTP status, when there was an answer. */
  status?: number;
  /** What happened, in words; may include the answer body, so redact before showing. */
  summary: string;
}

/**
 * POSTs `body` once. Never throws: every way it can go wrong becomes an
 * outcome. The time-out covers the whole exchange, answer body included.
 */
export async function postJson(url: string, headers: Headers, body: string, timeoutMs: number): Promise<PostOutcome> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
      // A redirect would resend the alert (and maybe the token) somewhere not configured: report it instead.
      redirect: 'manual',
    });
  } catch (err) {
    return { delivered: false, retryable: true, summary: describeFailure(err, timeoutMs) };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    return { delivered: false, retryable: true, status: response.status, summary: `HTTP ${response.status}, then ${describeFailure(err, timeoutMs)}` };
  }
  const status = response.status;
  const excerpt = excerptOf(text);
  const summary = `HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`;
  if (status >= 200 && status < 300) return { delivered: true, retryable: false, status, summary };
  if (status >= 300 && status < 400) {
    return { delivered: false, retryable: false, status, summary: `HTTP ${status} redirect (not followed; configure the final URL)` };
  }
  return { delivered: false, retryable: status === 408 || status === 429 || status >= 500, status, summary };
}

function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  // fetch reports network errors as "fetch failed" with the real reason in `cause`.
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return `cannot connect: ${cause.code}`;
  if (cause && typeof cause.message === 'string') return `request failed: ${cause.message}`;
  return `request failed: ${errorMessage(err)}`;
}

function excerptOf(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= BODY_EXCERPT_CHARS ? oneLine : `${oneLine.slice(0, BODY_EXCERPT_CHARS)}…`;
}
