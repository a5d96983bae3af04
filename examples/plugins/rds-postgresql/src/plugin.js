// The component's entry: binds the pure logic to the host imports of `dwlink:plugin@0.2.0`.
// Named imports work with both componentize-qjs and componentize-js (StarlingMonkey).
import { call, log } from 'dwlink:plugin/host@0.2.0';
import { guarded, makeDatasource } from './logic.js';

export const datasource = guarded(makeDatasource({ call, log }));
