/**
 * A minimal event emitter shaped like vscode's (`event(listener) → Disposable`), so the webview
 * channel needs no `vscode` at run time and its unit tests run in plain Node. Its events and
 * disposables are structurally vscode.Event / vscode.Disposable, so hosts use them as such.
 */

export interface Disposable { dispose(): void }

export type Event<T> = (listener: (e: T) => unknown) => Disposable;

export class Emitter<T> implements Disposable {
  private readonly listeners = new Set<(e: T) => unknown>();
  private disposed = false;

  /** `onError`: where a listener's exception goes (one bad listener must not stop the others). */
  constructor(private readonly onError?: (e: unknown) => void) {}

  readonly event: Event<T> = (listener) => {
    if (this.disposed) return { dispose: () => undefined };
    // Wrapped, so that subscribing the same function twice gives two subscriptions, as in vscode.
    const l = (e: T): unknown => listener(e);
    this.listeners.add(l);
    return { dispose: () => void this.listeners.delete(l) };
  };

  fire(e: T): void {
    // A copy: a listener may unsubscribe (itself or another) while we iterate.
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.onError?.(err);
      }
    }
  }

  dispose(): void {
    this.disposed = true;
    this.listeners.clear();
  }
}
