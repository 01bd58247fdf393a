export const ORT_WASM: string;
export const ORT_GLUE: string;
export function writeOrtWasm(dir?: string): void;
