// Regenerates the static protobufjs bindings for src/core/onnx/onnx.proto.
// Run after editing the .proto: `npm run gen:onnx-proto`. The output is committed so that
// neither users nor CI need the protobufjs CLI at build time.
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';

const dir = 'src/core/onnx';
const bin = 'node_modules/.bin';
const js = execFileSync(`${bin}/pbjs`, [
  '-t', 'static-module', '-w', 'es6', '--force-number', '--no-verify', '--no-convert', '--no-delimited',
  `${dir}/onnx.proto`,
], { encoding: 'utf8', maxBuffer: 1 << 26 });
// The generated module imports "protobufjs/minimal"; ESM resolution needs the explicit file.
writeFileSync(`${dir}/onnxProto.js`, js.replace(/from "protobufjs\/minimal"/g, 'from "protobufjs/minimal.js"'));
const dts = execFileSync(`${bin}/pbts`, ['--no-comments', `${dir}/onnxProto.js`], { encoding: 'utf8' });
writeFileSync(`${dir}/onnxProto.d.ts`, dts);
console.log('wrote', `${dir}/onnxProto.js`, readFileSync(`${dir}/onnxProto.js`).length, 'bytes');
