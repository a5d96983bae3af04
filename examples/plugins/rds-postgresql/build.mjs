// Builds the plugin component: `npm ci && node build.mjs [OUT]`.
//
// 1. componentize-qjs embeds src/plugin.js (and the modules it imports) in the QuickJS engine
//    and snapshots it with Wizer, against the same WIT world as the Rust plugins. `sync`: the
//    host does not enable component-model async; `stubWasi`: every WASI import the engine would
//    have (clocks, random, filesystem, stdio) becomes a trap inside the component, so the
//    component imports nothing but `dwlink:plugin/host` and `dwlink:plugin/types`.
// 2. Appends the custom section `dwlink:wit-version` = `0.2.0` at the component's top level:
//    the host refuses a plugin without it (it reads the section wherever it sits).
//
// OUT defaults to <repo>/target/plugins/rds-postgresql.wasm, beside the Rust plugins.
import { componentize } from 'componentize-qjs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');
const out = resolve(process.argv[2] ?? join(repo, 'target', 'plugins', 'rds-postgresql.wasm'));
const entry = join(here, 'src', 'plugin.js');

export const WIT_VERSION_SECTION = 'dwlink:wit-version';
export const WIT_VERSION = '0.2.0';

/** Unsigned LEB128, as wasm encodes section and name sizes. */
function leb128(n) {
  const bytes = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    bytes.push(b);
  } while (n !== 0);
  return Buffer.from(bytes);
}

/** A custom section (id 0): size, then the name as a wasm string, then the raw content. */
export function customSection(name, content) {
  const nameBytes = Buffer.from(name, 'utf8');
  const body = Buffer.concat([leb128(nameBytes.length), nameBytes, Buffer.from(content)]);
  return Buffer.concat([Buffer.from([0]), leb128(body.length), body]);
}

const started = Date.now();
const { component } = await componentize({
  witPath: join(repo, 'wit', 'since_v0.2.0'),
  world: 'datasource-plugin',
  jsSource: await readFile(entry, 'utf8'),
  jsPath: entry,
  moduleRoot: join(here, 'src'),
  stubWasi: true,
  sync: true,
  optSize: true,
});
const wasm = Buffer.concat([component, customSection(WIT_VERSION_SECTION, Buffer.from(WIT_VERSION, 'utf8'))]);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, wasm);
console.log(`rds-postgresql: wrote ${out} (${wasm.length} bytes) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
