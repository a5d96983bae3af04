// A scripted cloud for the node tests, holding the seed scenario's values for an RDS
// PostgreSQL instance. It keeps the whitelist as state (ModifySecurityIps applies Append and
// Delete like the simulator does), records every call, and refuses undeclared actions the way
// the host does.
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
    this.declared = null;
    this.datasource = makeDatasource(this);
    this.declared = new Set(this.datasource.describe().actions);
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
    if (this.declared && !this.declared.has(action)) {
      throw { code: 'dwlink.UndeclaredAction', message: `${action} was not declared`, requestId: '', httpStatus: 0 };
    }
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
