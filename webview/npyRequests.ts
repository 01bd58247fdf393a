/**
 * The page's side of pickNpy: a webview cannot open files, so it asks the host (its open dialog) for one
 * .npy file per model input and waits for the npyPicked answer with the same id. Answers nobody waits
 * for are dropped. No DOM: the inspector's buttons call `pick`, the app routes npyPicked to `settle`.
 */
import type { ErrorInfo, HostNotification, WebviewNotification } from '../src/shared/protocol.js';
import type { FloatTensor } from '../src/core/run/backend.js';
import { decodeNpy } from '../src/core/trace/npy.js';
import { SeqLensError } from '../src/core/errors.js';

export type NpyPicked = Extract<HostNotification, { type: 'npyPicked' }>;

/** A picked file, decoded: its name and the array in it. */
export interface PickedArray {
  fileName: string;
  tensor: FloatTensor;
}

export class NpyRequests {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(p: PickedArray | undefined): void; reject(e: Error): void }>();

  constructor(private readonly post: (m: Extract<WebviewNotification, { type: 'pickNpy' }>) => void) {}

  /** Asks the host for a .npy file for `input`; undefined when the user dismissed the dialog. */
  pick(input: string): Promise<PickedArray | undefined> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.post({ type: 'pickNpy', id, input });
    });
  }

  /** The host's answer; false when nothing waits for it. */
  settle(m: NpyPicked): boolean {
    const w = this.waiting.get(m.inReplyTo);
    if (!w) return false;
    this.waiting.delete(m.inReplyTo);
    if (m.error) {
      w.reject(errorOf(m.error));
    } else if (!m.data) {
      w.resolve(undefined);
    } else {
      const fileName = m.fileName ?? 'the file';
      try {
        w.resolve({ fileName, tensor: decodeNpy(new Uint8Array(m.data)) });
      } catch (e) {
        w.reject(new SeqLensError('bad-input', `${fileName} is ${e instanceof Error ? e.message : String(e)}.`));
      }
    }
    return true;
  }
}

function errorOf(e: ErrorInfo): Error {
  return new SeqLensError(e.code === 'bad-input' ? 'bad-input' : 'runtime', e.message);
}
