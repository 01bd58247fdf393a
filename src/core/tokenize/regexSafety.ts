/**
 * tokenizer.json carries regular expressions (Split and Replace patterns) that @huggingface/tokenizers
 * compiles to JavaScript RegExps, which backtrack without a time limit: `(a+)+$` on forty letters
 * freezes the panel. Tokenizers' own engine (Rust, Oniguruma) has the same weakness, so real
 * tokenizers avoid such patterns; a file that has one is refused before it runs.
 *
 * The test is structural and conservative: a repeated group (`*`, `+`, `{n,}`, `{n,m}` with m > 1)
 * that holds a repetition or an alternation (the shapes behind exponential backtracking), or a
 * backreference. The patterns of GPT-2, Llama 3, Qwen, GPT-4o, BLOOM and DeepSeek pass: their
 * alternations sit at the top level or in groups repeated at most once (`(?i:'s|'t)?`).
 */

interface Group {
  repeats: boolean;
  alternates: boolean;
}

/** The quantifier starting at `at`, if any: its length and whether it allows more than one repetition. */
function quantifierAt(source: string, at: number): { length: number; repeating: boolean } {
  const c = source[at];
  let length = 0;
  let repeating = false;
  if (c === '*' || c === '+') {
    length = 1;
    repeating = true;
  } else if (c === '?') {
    length = 1;
  } else if (c === '{') {
    const m = /^\{(\d*)(,(\d*))?\}/.exec(source.slice(at, at + 24));
    if (m) {
      length = m[0].length;
      const low = m[1] ? Number(m[1]) : 0;
      const high = m[2] === undefined ? low : m[3] ? Number(m[3]) : Infinity;
      repeating = high > 1;
    }
  }
  // A lazy quantifier backtracks just the same.
  if (length && source[at + length] === '?') length++;
  return { length, repeating };
}

/** Index just past the character class that opens at `at` (escapes inside it skipped). */
function classEnd(source: string, at: number): number {
  let i = at + 1;
  if (source[i] === '^') i++;
  if (source[i] === ']') i++;
  while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
  return i + 1;
}

export function backtracksCatastrophically(source: string): boolean {
  const stack: Group[] = [{ repeats: false, alternates: false }];
  const top = (): Group => stack[stack.length - 1]!;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const n = source[i + 1] ?? '';
      if (/[1-9]/.test(n) || n === 'k') return true;
      // \p{...}, \u{...}, \x{...}: the braces belong to the escape, not to a quantifier.
      i += 2;
      if ((n === 'p' || n === 'P' || n === 'u' || n === 'x') && source[i] === '{') i = source.indexOf('}', i) + 1 || source.length;
    } else if (c === '[') {
      i = classEnd(source, i);
    } else if (c === '(') {
      stack.push({ repeats: false, alternates: false });
      i++;
      continue;
    } else if (c === ')') {
      const g = stack.length > 1 ? stack.pop()! : { repeats: false, alternates: false };
      const q = quantifierAt(source, i + 1);
      if (q.repeating && (g.repeats || g.alternates)) return true;
      const parent = top();
      parent.repeats ||= g.repeats || q.repeating;
      parent.alternates ||= g.alternates;
      i += 1 + q.length;
      continue;
    } else if (c === '|') {
      top().alternates = true;
      i++;
      continue;
    } else {
      i++;
    }
    // The atom just read (escape, class or character) may carry a quantifier.
    const q = quantifierAt(source, i);
    if (q.repeating) top().repeats = true;
    i += q.length;
  }
  return false;
}
