/** Turning any thrown value into one line a user can read (no vscode import: used by pure modules too). */
/** One readable line for any thrown value. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
