// The component's entry: binds the pure logic to the host imports of `dwlink:plugin@0.1.0`.
import host from 'dwlink:plugin/host@0.1.0';
import { guarded, makeDatasource } from './logic.js';

export const datasource = guarded(makeDatasource({
  call: (request) => host.call(request),
  log: (level, message) => host.log(level, message),
}));
