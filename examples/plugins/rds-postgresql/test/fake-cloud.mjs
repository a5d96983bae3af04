// A scripted cloud for the node tests, holding the seed scenario's values for an RDS
// PostgreSQL instance. It keeps the whitelist as state (ModifySecurityIps applies Append and
// Delete like the simulator does), records every call, and checks each call against the
// declared capabilities the way the host's gate does: an undeclared call is refused with
// `dwlink.UndeclaredAction`; a declared one with another API version, without its instance
// parameter, or (for a whitelist write) with a mode other than append/delete or a parameter not
// declared, with `dwlink.OutOfScope`. Refused calls change nothing.
import { makeDatasource } from '../src/logic.js';

export const ID = 'pgm-bp1simpgsqlsrc00001';
export const REGION = 'cn-hangzhou';
export const HOST = 'pgm-bp1simpgsqlsrc00001.pg.rds.aliyuncs.com';
export const INSTANCE = { id: ID, region: REGION };

export class FakeCloud {
  constructor(groups = { default: ['10.20.0.0/16'], app: ['192.168.6.0/24', '192.168.7.15'] }) {
    this.groups = new Map(Object.entries(groups).map(([k, v]) => [k, [...v]]));
    this.calls = [];
    this.logs = [];
    this.failures = new Map(); // product:Action -> cloud-error record
    this.statuses = []; // statuses answered before "Running" (one per DescribeDBInstanceAttribute)
    this.engine = 'PostgreSQL';
    this.overrides = new Map(); // product:Action -> raw body
    this.capabilities = null;
    this.datasource = makeDatasource(this);
    this.capabilities = new Map(this.datasource.describe().capabilities
      .map((c) => [`${c.product.toLowerCase()}:${c.action}`, c]));
  }

  /** Why the host's gate would refuse `request` (as a cloud-error record), or null. */
  refusal(action, request, params) {
    if (this.capabilities === null) return null;
    const refuse = (code, why) => ({ code, message: `${action}: ${why}`, requestId: '', httpStatus: 0 });
    const cap = this.capabilities.get(action);
    if (!cap) return refuse('dwlink.UndeclaredAction', 'not declared');
    if (cap.version !== request.version) return refuse('dwlink.OutOfScope', `version ${request.version}`);
    if (cap.instanceParam !== null && !(cap.instanceParam in params)) {
      return refuse('dwlink.OutOfScope', `${cap.instanceParam} is missing`);
    }
    if (cap.access === 'whitelist-write') {
      const w = cap.whitelist;
      if (![w.appendMode, w.deleteMode].includes(params[w.modeParam])) {
        return refuse('dwlink.OutOfScope', `${w.modeParam} = ${params[w.modeParam]}`);
      }
      const known = [cap.instanceParam, w.groupParam, w.entriesParam, w.modeParam, 'RegionId',
        ...w.fixedParams.map(([k]) => k)];
      const extra = Object.keys(params).filter((k) => !known.includes(k));
      if (extra.length > 0) return refuse('dwlink.OutOfScope', `undeclared parameters ${extra}`);
    }
    return null;
  }

  fail(action, code, message = 'scripted failure') {
    this.failures.set(action, { code, message, requestId: 'req-fail', httpStatus: 400 });
    return this;
  }

  callsTo(action) {
    return this.calls.filter((c) => c.action === action).map((c) => c.params);
  }

  log(level, message) {
    this.logs.push([level, message]);
  }

  call(request) {
    const action = `${request.product.toLowerCase()}:${request.action}`;
    const params = Object.fromEntries(request.params);
    this.calls.push({ action, params, request });
    const refused = this.refusal(action, request, params);
    if (refused) throw refused;
    if (this.failures.has(action)) throw this.failures.get(action);
    if (this.overrides.has(action)) return this.overrides.get(action);
    switch (action) {
      case 'rds:DescribeDBInstanceAttribute': {
        if (params.DBInstanceId !== ID) return JSON.stringify({ RequestId: 'r', Items: { DBInstanceAttribute: [] } });
        const status = this.statuses.length > 0 ? this.statuses.shift() : 'Running';
        return JSON.stringify({
          RequestId: 'req-attr',
          Items: {
            DBInstanceAttribute: [{
              DBInstanceId: ID, RegionId: REGION, ZoneId: 'cn-hangzhou-h',
              VpcId: 'vpc-bp1simhzvpc000000001', VSwitchId: 'vsw-bp1simhzvsw00000000h',
              InstanceNetworkType: 'VPC', ConnectionString: HOST, Port: '5432',
              DBInstanceStatus: status, Engine: this.engine, EngineVersion: '16.0',
            }],
          },
        });
      }
      case 'rds:DescribeDBInstanceNetInfo':
        return JSON.stringify({
          RequestId: 'req-net', InstanceNetworkType: 'VPC',
          DBInstanceNetInfos: {
            DBInstanceNetInfo: [
              { ConnectionString: `${ID}o.pg.rds.aliyuncs.com`, IPAddress: '47.1.2.3', IPType: 'Public', Port: '5432' },
              {
                ConnectionString: HOST, IPAddress: '192.168.6.40', IPType: 'Private', Port: 5432,
                VPCId: 'vpc-bp1simhzvpc000000001', VSwitchId: 'vsw-bp1simhzvsw00000000h', ConnectionStringType: 'Normal',
              },
            ],
          },
        });
      case 'vpc:DescribeVSwitchAttributes':
        return JSON.stringify({
          RequestId: 'req-vsw', VSwitchId: params.VSwitchId, VpcId: 'vpc-bp1simhzvpc000000001',
          ZoneId: 'cn-hangzhou-h', CidrBlock: '192.168.6.0/24', Status: 'Available',
        });
      case 'rds:DescribeDBInstanceIPArrayList':
        return JSON.stringify({
          RequestId: 'req-ips',
          Items: {
            DBInstanceIPArray: [...this.groups].map(([name, ips]) => ({
              DBInstanceIPArrayName: name, DBInstanceIPArrayAttribute: '', SecurityIPType: 'IPv4',
              SecurityIPList: ips.join(','),
            })),
          },
        });
      case 'rds:ModifySecurityIps': {
        const ips = params.SecurityIps.split(',');
        const group = params.DBInstanceIPArrayName;
        const current = this.groups.get(group) ?? [];
        if (params.ModifyMode === 'Append') {
          this.groups.set(group, [...current, ...ips]);
        } else if (params.ModifyMode === 'Delete') {
          const left = current.filter((e) => !ips.includes(e));
          if (left.length === 0 && group !== 'default') this.groups.delete(group);
          else this.groups.set(group, left);
        } else {
          this.groups.set(group, ips); // Cover: what the plugin must never send
        }
        return JSON.stringify({ RequestId: 'req-mod', TaskId: '1' });
      }
      default:
        throw { code: 'InvalidAction.NotFound', message: action, requestId: '', httpStatus: 404 };
    }
  }
}
