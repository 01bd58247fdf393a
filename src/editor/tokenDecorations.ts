/**
 * After a run, the selected source text is coloured token by token with the score the panel sent
 * (attention from the pinned token, hidden-state norm, or a gate value), and hovering a token
 * shows its top attended tokens and predictions. Everything clears as soon as the text changes:
 * offsets would no longer match.
 */
import * as vscode from 'vscode';
import type { DecorationMode, TokenSummary } from '../shared/protocol.js';
import type { TokenLabel } from '../core/tokenize/tokenLabels.js';
import { BUCKETS, bucketColor, scoreBucket } from './scoreColors.js';
import { cleanTokens } from './tokenSummaries.js';
import { hoverMarkdown, summaryLabels } from './tokenHover.js';

interface Decorated {
  version: number;
  /** Document offset of the run's text start. */
  base: number;
  tokens: TokenSummary[];
  /** Every token's label by the page's token index (what `attends` indexes), made from the run's text. */
  labels: (TokenLabel | undefined)[];
  mode: DecorationMode;
  model: string;
  text: string;
}

function isMode(m: string): m is DecorationMode {
  return m === 'attention' || m === 'hiddenNorm' || m === 'gate';
}

export class TokenDecorations implements vscode.Disposable, vscode.HoverProvider {
  private readonly types = new Map<string, vscode.TextEditorDecorationType>();
  private readonly docs = new Map<string, Decorated>();
  private readonly disposables: vscode.Disposable[] = [];
  /** The document of the latest run, for re-scoring from the panel. */
  private lastKey: string | undefined;

  constructor() {
    this.disposables.push(
      vscode.languages.registerHoverProvider({ scheme: '*' }, this),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0 && this.docs.has(e.document.uri.toString())) this.clear(e.document);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.docs.delete(d.uri.toString())),
      // Editors are recreated when a tab is shown again: paint them from the stored state.
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((e) => this.paint(e))),
    );
  }

  get decoratedCount(): number {
    return this.docs.size;
  }

  private type(mode: DecorationMode, bucket: number): vscode.TextEditorDecorationType {
    const key = `${mode}:${bucket}`;
    let t = this.types.get(key);
    if (!t) {
      t = vscode.window.createTextEditorDecorationType({
        backgroundColor: bucketColor(mode, bucket),
        borderRadius: '2px',
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      });
      this.types.set(key, t);
    }
    return t;
  }

  /** Colours `tokens` (offsets into the run's text, which starts at document offset `base`). */
  apply(document: vscode.TextDocument, base: number, text: string, tokens: readonly unknown[], mode: string, model: string): number {
    const clean = cleanTokens(tokens, text.length);
    const m: DecorationMode = isMode(mode) ? mode : 'attention';
    this.docs.set(document.uri.toString(), { version: document.version, base, tokens: clean, labels: summaryLabels(tokens, text), mode: m, model, text });
    this.lastKey = document.uri.toString();
    for (const e of vscode.window.visibleTextEditors) if (e.document === document) this.paint(e);
    return clean.length;
  }

  /** New scores for the latest run (same text, same offsets), e.g. another decoration mode. */
  rescore(tokens: readonly unknown[], mode: string): void {
    const d = this.lastKey ? this.docs.get(this.lastKey) : undefined;
    if (!d) return;
    d.tokens = cleanTokens(tokens, d.text.length);
    d.labels = summaryLabels(tokens, d.text);
    if (isMode(mode)) d.mode = mode;
    for (const e of vscode.window.visibleTextEditors) if (e.document.uri.toString() === this.lastKey) this.paint(e);
  }

  private paint(editor: vscode.TextEditor): void {
    const d = this.docs.get(editor.document.uri.toString());
    // Clear every bucket of every mode first, so a mode switch leaves nothing behind.
    for (const t of this.types.values()) editor.setDecorations(t, []);
    if (!d || d.version !== editor.document.version) return;
    const byBucket: vscode.Range[][] = Array.from({ length: BUCKETS }, () => []);
    for (const t of d.tokens) {
      const range = new vscode.Range(editor.document.positionAt(d.base + t.start), editor.document.positionAt(d.base + t.end));
      byBucket[scoreBucket(t.score)].push(range);
    }
    byBucket.forEach((ranges, b) => {
      if (ranges.length > 0) editor.setDecorations(this.type(d.mode, b), ranges);
    });
  }

  clear(document?: vscode.TextDocument): void {
    if (document) this.docs.delete(document.uri.toString());
    else this.docs.clear();
    for (const e of vscode.window.visibleTextEditors) {
      if (!document || e.document === document) for (const t of this.types.values()) e.setDecorations(t, []);
    }
  }

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const d = this.docs.get(document.uri.toString());
    if (!d || d.version !== document.version) return undefined;
    const offset = document.offsetAt(position) - d.base;
    const index = d.tokens.findIndex((t) => offset >= t.start && offset < t.end);
    if (index < 0) return undefined;
    const t = d.tokens[index];
    const md = new vscode.MarkdownString();
    md.appendMarkdown(hoverMarkdown(d, index));
    const range = new vscode.Range(document.positionAt(d.base + t.start), document.positionAt(d.base + t.end));
    return new vscode.Hover(md, range);
  }

  dispose(): void {
    for (const t of this.types.values()) t.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
