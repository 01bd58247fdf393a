/**
 * The page's side of the protocol: every reply and notification the App sends goes through these
 * typed functions, so a reply always names the request it answers (`inReplyTo`), has the type that
 * request expects (`Replies` in src/shared/protocol.ts), and a notification can never pass for a reply.
 */
import { REPLY_TYPE, type ErrorInfo, type LogLevel, type Replies, type WebviewNotification } from '../src/shared/protocol.js';
import type { VsCodeApi } from './vscodeApi.js';

/** A reply's own fields: `type` and `inReplyTo` are filled in from the request. */
export type ReplyBody<K extends keyof Replies> = Omit<Replies[K], 'type' | 'inReplyTo'>;

export class HostChannel {
  private firstAnswer!: () => void;
  /** Resolves once the page has answered a request (its first picture is up, or it said why not). */
  readonly answered = new Promise<void>((resolve) => { this.firstAnswer = resolve; });

  constructor(private readonly api: Pick<VsCodeApi, 'postMessage'>) {}

  /** Answers request `id` (of kind `kind`) with its success reply. */
  reply<K extends keyof Replies>(kind: K, id: number, body: ReplyBody<K>): void {
    // TS cannot see that a body plus these two fields is Replies[K] for a generic K; it is by construction.
    const msg = { ...body, type: REPLY_TYPE[kind], inReplyTo: id } as unknown as Replies[K];
    this.api.postMessage(msg);
    this.firstAnswer();
  }

  /** Answers request `id` with the one error reply (a cancelled run: code 'cancelled'). */
  fail(id: number, error: ErrorInfo): void {
    this.api.postMessage({ type: 'error', inReplyTo: id, error: { code: error.code, message: error.message } });
    this.firstAnswer();
  }

  /** A message that answers nothing. */
  notify(msg: WebviewNotification): void {
    this.api.postMessage(msg);
  }

  /** How request `requestId` is getting on; it is still waiting for its reply. */
  progress(requestId: number, message: string, fraction?: number): void {
    this.notify(fraction === undefined ? { type: 'progress', requestId, message } : { type: 'progress', requestId, message, fraction });
  }

  log(level: LogLevel, message: string): void {
    this.notify({ type: 'log', level, message });
  }
}
