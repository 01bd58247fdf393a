// Sequence Lens walkthrough: code whose bracket depth goes up and down. The step runs the zoo LSTM on
// the function below and ranks its units by how well they follow the bracket depth.
export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (!groups.has(k)) {
      groups.set(k, [item]);
    } else {
      groups.get(k)?.push(item);
    }
  }
  return groups;
}

export const byLength = groupBy(["a", "bb", "cc"], (s) => String(s.length));
