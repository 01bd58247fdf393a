// esbuild loads .css as text (loader '.css': 'text' in esbuild.mjs).
declare module '*.css' {
  const text: string;
  export default text;
}
