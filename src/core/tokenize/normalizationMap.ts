/**
 * Normalizers (NFC, lowercase, accent stripping, BERT's cleaning) change the text before it is split,
 * so token positions are positions in the normalized text. This map carries them back to the user's
 * text. It normalizes the input one cluster at a time (a base character with its combining marks,
 * the unit normalization works on), which gives a monotone map with exact cluster boundaries.
 */

export interface NormalizationMap {
  /** The cluster-by-cluster normalized text. */
  normalized: string;
  /**
   * For each position in `normalized` (length + 1): the original position where a token starting there
   * starts. Inside a cluster whose normalization changed it, that is the cluster's start.
   */
  normToOrigStart: Int32Array;
  /** The same for a token ending there: inside a changed cluster, the cluster's end. */
  normToOrigEnd: Int32Array;
  /** For each original position (length + 1): the normalized position (a cluster's inner positions map to its end). */
  origToNorm: Int32Array;
}

/** Code points that continue the cluster before them: combining marks and Hangul medial/final jamo. */
const CLUSTER = /[^\p{M}\u1160-\u11ff\ud7b0-\ud7ff][\p{M}\u1160-\u11ff\ud7b0-\ud7ff]*|[\p{M}\u1160-\u11ff\ud7b0-\ud7ff]+/gu;

export function buildNormalizationMap(text: string, normalize: ((s: string) => string) | null): NormalizationMap {
  const origToNorm = new Int32Array(text.length + 1);
  if (normalize === null) {
    const identity = new Int32Array(text.length + 1).map((_, i) => i);
    return { normalized: text, normToOrigStart: identity, normToOrigEnd: identity.slice(), origToNorm: identity.slice() };
  }
  const cache = new Map<string, string>();
  const parts: string[] = [];
  const starts: number[] = []; // [origStart, origEnd, normStart, normEnd] per cluster, flattened
  let normLength = 0;
  for (const m of text.matchAll(CLUSTER)) {
    const cluster = m[0];
    const os = m.index;
    let n = cache.get(cluster);
    if (n === undefined) {
      n = normalize(cluster);
      cache.set(cluster, n);
    }
    parts.push(n);
    starts.push(os, os + cluster.length, normLength, normLength + n.length);
    normLength += n.length;
  }
  const normalized = parts.join('');
  const normToOrigStart = new Int32Array(normalized.length + 1).fill(-1);
  const normToOrigEnd = new Int32Array(normalized.length + 1).fill(-1);
  for (let c = 0, k = 0; c < starts.length; c += 4, k++) {
    const os = starts[c]!, oe = starts[c + 1]!, ns = starts[c + 2]!, ne = starts[c + 3]!;
    if (normToOrigStart[ns] === -1) {
      normToOrigStart[ns] = os;
      normToOrigEnd[ns] = os;
    }
    // Where the cluster survives inside its normalization (unchanged, or padded like BERT's ' 中 '),
    // positions map one to one; elsewhere a token touching the cluster takes all of it.
    const n = parts[k]!;
    const at = n.indexOf(text.slice(os, oe));
    for (let q = ns + 1; q < ne; q++) {
      const inner = q - ns - at;
      const exact = at >= 0 && inner >= 0 && inner <= oe - os;
      normToOrigStart[q] = exact ? os + inner : inner < 0 ? os : at >= 0 ? oe : os;
      normToOrigEnd[q] = exact ? os + inner : inner < 0 && at >= 0 ? os : oe;
    }
    origToNorm[os] = ns;
    for (let q = os + 1; q < oe; q++) origToNorm[q] = at >= 0 ? ns + at + (q - os) : ne;
  }
  if (normToOrigStart[normalized.length] === -1) {
    normToOrigStart[normalized.length] = text.length;
    normToOrigEnd[normalized.length] = text.length;
  }
  origToNorm[text.length] = normalized.length;
  return { normalized, normToOrigStart, normToOrigEnd, origToNorm };
}
