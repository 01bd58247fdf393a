/** .npy export of whole tensors: core's writer (src/core/trace/npy.ts), the same bytes `seqlens trace --dump` writes. */
export { encodeNpy } from '../../src/core/trace/npy.js';
