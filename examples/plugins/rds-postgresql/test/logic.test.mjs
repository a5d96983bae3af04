// Node tests of the plugin logic (the same code the component runs) against FakeCloud.
// Run: `npm test` (node's built-in test runner; no npm package needed).
import test from 'node:test';
import assert from 'node:assert/strict';
import { FakeCloud, HOST, ID, INSTANCE, REGION } from './fake-cloud.mjs';
import { PluginError, guarded, parseEntry, sameEntry } from '../src/logic.js';

/** Runs `fn` and returns the plugin error it threw. */
function error(fn) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PluginError, `expected a PluginError, got ${e}`);
    return e;
  }
  assert.fail('expected an error');
}

test('describe declares exactly the calls it makes, as typed capabilities', () => {
  const cloud = new FakeCloud();
  const info = cloud.datasource.describe();
  assert.equal(info.name, 'rds-postgresql');
  assert.equal(info.datasourceType, 'postgresql');
  assert.equal(info.product, 'Rds');
  assert.equal(info.apiVersion, '2014-08-15');
  assert.equal(info.actions, undefined, 'contract 0.2 has capabilities, not bare actions');
  const rds = (action) => ({
    product: 'Rds', version: '2014-08-15', action, access: 'read', instanceParam: 'DBInstanceId', whitelist: null,
  });
  // The shape componentize-qjs lowers into the WIT `capability` record: camelCase fields, the
  // `access` enum as its case name, options as the value or null, tuples as arrays.
  assert.deepEqual(info.capabilities, [
    rds('DescribeDBInstanceAttribute'),
    rds('DescribeDBInstanceNetInfo'),
    rds('DescribeDBInstanceIPArrayList'),
    {
      product: 'Rds',
      version: '2014-08-15',
      action: 'ModifySecurityIps',
      access: 'whitelist-write',
      instanceParam: 'DBInstanceId',
      whitelist: {
        groupParam: 'DBInstanceIPArrayName',
        entriesParam: 'SecurityIps',
        modeParam: 'ModifyMode',
        appendMode: 'Append',
        deleteMode: 'Delete',
        fixedParams: [],
      },
    },
    {
      product: 'Vpc', version: '2016-04-28', action: 'DescribeVSwitchAttributes', access: 'read',
      instanceParam: null, whitelist: null,
    },
  ]);
  const ds = cloud.datasource;
  ds.discover(INSTANCE);
  ds.whitelistAdd(INSTANCE, 'dataworks', ['172.16.66.0/24']);
  ds.whitelistRemove(INSTANCE, 'dataworks', ['172.16.66.0/24']);
  const declared = info.capabilities.map((c) => `${c.product.toLowerCase()}:${c.action}`);
  assert.deepEqual(new Set(cloud.calls.map((c) => c.action)), new Set(declared));
  assert.equal(cloud.calls.length > 0, true);
  assert.deepEqual(cloud.calls.filter((c) => c.request.region !== REGION), []);
  // Every call that names an instance names the link's, in the declared parameter.
  for (const { action, params } of cloud.calls) {
    const cap = info.capabilities.find((c) => `${c.product.toLowerCase()}:${c.action}` === action);
    if (cap.instanceParam !== null) assert.equal(params[cap.instanceParam], ID, action);
  }
});

test('the fake cloud refuses what the host would', () => {
  const cloud = new FakeCloud();
  const refused = (request) => {
    try {
      cloud.call({ region: REGION, params: [], ...request });
    } catch (e) {
      return e.code;
    }
    assert.fail('expected a refusal');
  };
  assert.equal(refused({ product: 'Sts', version: '2015-04-01', action: 'AssumeRole' }), 'dwlink.UndeclaredAction');
  assert.equal(refused({ product: 'Rds', version: '2014-08-15', action: 'DescribeDBInstanceAttribute' }),
    'dwlink.OutOfScope');
  const modify = (mode) => ({
    product: 'Rds', version: '2014-08-15', action: 'ModifySecurityIps',
    params: [['DBInstanceId', ID], ['DBInstanceIPArrayName', 'app'], ['ModifyMode', mode], ['SecurityIps', '1.2.3.4']],
  });
  assert.equal(refused(modify('Cover')), 'dwlink.OutOfScope');
  assert.deepEqual(cloud.groups.get('app'), ['192.168.6.0/24', '192.168.7.15']);
});

test('discover finds the private endpoint, VPC, vSwitch, zone and CIDR', () => {
  const cloud = new FakeCloud();
  const loc = cloud.datasource.discover(INSTANCE);
  assert.deepEqual(loc, {
    region: REGION,
    zone: 'cn-hangzhou-h',
    vpcId: 'vpc-bp1simhzvpc000000001',
    vswitchId: 'vsw-bp1simhzvsw00000000h',
    vswitchCidr: '192.168.6.0/24',
    endpoints: [{ host: HOST, port: 5432, role: 'primary', address: '192.168.6.40' }],
    status: 'Running',
    running: true,
  });
  assert.deepEqual(cloud.callsTo('vpc:DescribeVSwitchAttributes'), [{ VSwitchId: 'vsw-bp1simhzvsw00000000h' }]);
});

test('discover: an endpoint without IPAddress has no address, and the fallback endpoint none either', () => {
  const noIp = new FakeCloud();
  noIp.overrides.set('rds:DescribeDBInstanceNetInfo', JSON.stringify({
    DBInstanceNetInfos: {
      DBInstanceNetInfo: [{
        ConnectionString: HOST, IPType: 'Private', Port: '5432', IPAddress: '',
        VPCId: 'vpc-bp1simhzvpc000000001', VSwitchId: 'vsw-bp1simhzvsw00000000h',
      }],
    },
  }));
  assert.deepEqual(noIp.datasource.discover(INSTANCE).endpoints, [{ host: HOST, port: 5432, role: 'primary', address: null }]);

  const none = new FakeCloud();
  none.overrides.set('rds:DescribeDBInstanceNetInfo', JSON.stringify({ DBInstanceNetInfos: { DBInstanceNetInfo: [] } }));
  assert.deepEqual(none.datasource.discover(INSTANCE).endpoints, [{ host: HOST, port: 5432, role: 'primary', address: null }]);
});

test('discover refuses another engine, the classic network and a missing instance', () => {
  const mysql = new FakeCloud();
  mysql.engine = 'MySQL';
  assert.match(error(() => mysql.datasource.discover(INSTANCE)).val, /runs MySQL, not PostgreSQL/);

  const missing = new FakeCloud();
  const e = error(() => missing.datasource.discover({ id: 'pgm-nope', region: REGION }));
  assert.equal(e.tag, 'not-found');
  assert.match(e.val, /pgm-nope in cn-hangzhou/);

  const gone = new FakeCloud().fail('rds:DescribeDBInstanceAttribute', 'InvalidDBInstanceId.NotFound', 'gone');
  const g = error(() => gone.datasource.discover(INSTANCE));
  assert.equal(g.tag, 'not-found');
  assert.match(g.val, /InvalidDBInstanceId\.NotFound/);
  assert.match(g.val, new RegExp(ID));
});

test('cloud errors keep their code and request id and say what to do', () => {
  const cloud = new FakeCloud().fail('rds:DescribeDBInstanceIPArrayList', 'Throttling.User', 'slow down');
  const e = error(() => cloud.datasource.whitelistList(INSTANCE));
  assert.equal(e.tag, 'cloud');
  assert.equal(e.val.code, 'Throttling.User');
  assert.equal(e.val.requestId, 'req-fail');
  assert.equal(e.val.httpStatus, 400);
  assert.match(e.val.message, /rate limiting/);
  assert.match(e.val.message, /rds:DescribeDBInstanceIPArrayList/);

  const busy = new FakeCloud().fail('rds:ModifySecurityIps', 'OperationDenied.DBInstanceStatus', 'busy');
  assert.equal(error(() => busy.datasource.whitelistAdd(INSTANCE, 'app', ['1.2.3.4'])).tag, 'invalid-state');
  const quota = new FakeCloud().fail('rds:ModifySecurityIps', 'InvalidSecurityIPs.Quota', 'full');
  assert.equal(error(() => quota.datasource.whitelistAdd(INSTANCE, 'app', ['1.2.3.4'])).tag, 'limit-exceeded');

  const junk = new FakeCloud();
  junk.overrides.set('rds:DescribeDBInstanceIPArrayList', '<html>');
  const j = error(() => junk.datasource.whitelistList(INSTANCE));
  assert.equal(j.tag, 'cloud');
  assert.equal(j.val.code, 'dwlink.MalformedResponse');
});

test('whitelist list reads every group', () => {
  const cloud = new FakeCloud();
  assert.deepEqual(cloud.datasource.whitelistList(INSTANCE), [
    { name: 'default', entries: ['10.20.0.0/16'], attribute: '' },
    { name: 'app', entries: ['192.168.6.0/24', '192.168.7.15'], attribute: '' },
  ]);
});

test('whitelist add appends only what is missing, and a second run writes nothing', () => {
  const cloud = new FakeCloud();
  const ds = cloud.datasource;
  ds.whitelistAdd(INSTANCE, 'app', ['192.168.7.15/32', '172.16.66.0/24', '172.16.66.0/24']);
  assert.deepEqual(cloud.callsTo('rds:ModifySecurityIps'), [{
    DBInstanceId: ID, DBInstanceIPArrayName: 'app', ModifyMode: 'Append', SecurityIps: '172.16.66.0/24',
  }]);
  assert.deepEqual(cloud.groups.get('app'), ['192.168.6.0/24', '192.168.7.15', '172.16.66.0/24']);
  assert.deepEqual(cloud.groups.get('default'), ['10.20.0.0/16']);
  ds.whitelistAdd(INSTANCE, 'app', ['172.16.66.0/24']);
  assert.equal(cloud.callsTo('rds:ModifySecurityIps').length, 1);
  assert.ok(cloud.logs.some(([, m]) => m.includes('nothing to do')));
});

test('whitelist add creates a new group and returns once RDS accepts it: the host waits', () => {
  const cloud = new FakeCloud();
  cloud.statuses = ['Running', 'ModifyingSecurityIps', 'ModifyingSecurityIps'];
  cloud.datasource.whitelistAdd(INSTANCE, 'dataworks', ['172.16.66.0/24']);
  assert.deepEqual(cloud.groups.get('dataworks'), ['172.16.66.0/24']);
  // One status read before the change, none after it (contract 0.2: the host polls discover).
  assert.equal(cloud.callsTo('rds:DescribeDBInstanceAttribute').length, 1);
  assert.equal(cloud.callsTo('rds:ModifySecurityIps').length, 1);
});

test('whitelist changes need a Running instance', () => {
  const stopped = new FakeCloud();
  stopped.statuses = ['Stopped'];
  const e = error(() => stopped.datasource.whitelistAdd(INSTANCE, 'dataworks', ['172.16.66.0/24']));
  assert.equal(e.tag, 'invalid-state');
  assert.equal(stopped.callsTo('rds:ModifySecurityIps').length, 0);

  const busy = new FakeCloud();
  busy.statuses = ['ModifyingSecurityIps'];
  assert.equal(error(() => busy.datasource.whitelistRemove(INSTANCE, 'app', ['192.168.7.15'])).tag, 'invalid-state');
  assert.equal(busy.callsTo('rds:ModifySecurityIps').length, 0);
});

test('a host refusal fails the call as a cloud error naming the refusal', () => {
  const cloud = new FakeCloud().fail('rds:ModifySecurityIps', 'dwlink.OutOfScope', 'not the link\'s group');
  const e = error(() => cloud.datasource.whitelistAdd(INSTANCE, 'dataworks', ['172.16.66.0/24']));
  assert.equal(e.tag, 'cloud');
  assert.equal(e.val.code, 'dwlink.OutOfScope');
  assert.match(e.val.message, /dwlink host refusal/);
});

test('whitelist add refuses bad entries, open-to-all, bad group names and the limits', () => {
  const cloud = new FakeCloud();
  const ds = cloud.datasource;
  assert.equal(error(() => ds.whitelistAdd(INSTANCE, 'app', ['nope'])).tag, 'invalid-input');
  assert.match(error(() => ds.whitelistAdd(INSTANCE, 'app', ['0.0.0.0/0'])).val, /every address/);
  assert.equal(error(() => ds.whitelistAdd(INSTANCE, 'Data-Works', ['1.2.3.4'])).tag, 'invalid-input');
  assert.equal(error(() => ds.whitelistAdd(INSTANCE, 'app', ['10.0.0.1/33'])).tag, 'invalid-input');
  const many = Array.from({ length: 998 }, (_, n) => `10.${n >> 8}.${n & 255}.1`);
  assert.equal(error(() => ds.whitelistAdd(INSTANCE, 'app', many)).tag, 'limit-exceeded');
  const full = new FakeCloud(Object.fromEntries(Array.from({ length: 200 }, (_, n) => [`g${n}`, [`10.0.${n}.1`]])));
  assert.equal(error(() => full.datasource.whitelistAdd(INSTANCE, 'dataworks', ['1.2.3.4'])).tag, 'limit-exceeded');
  assert.equal(cloud.callsTo('rds:ModifySecurityIps').length + full.callsTo('rds:ModifySecurityIps').length, 0);
});

test('whitelist remove deletes exactly the asked entries that are present, never Cover', () => {
  const cloud = new FakeCloud();
  const ds = cloud.datasource;
  ds.whitelistRemove(INSTANCE, 'app', ['192.168.7.15/32', '9.9.9.9']);
  assert.deepEqual(cloud.callsTo('rds:ModifySecurityIps'), [{
    DBInstanceId: ID, DBInstanceIPArrayName: 'app', ModifyMode: 'Delete', SecurityIps: '192.168.7.15',
  }]);
  assert.deepEqual(cloud.groups.get('app'), ['192.168.6.0/24']);
  assert.deepEqual(cloud.groups.get('default'), ['10.20.0.0/16']);
  ds.whitelistRemove(INSTANCE, 'app', ['192.168.7.15']);
  ds.whitelistRemove(INSTANCE, 'absent', ['1.2.3.4']);
  assert.equal(cloud.callsTo('rds:ModifySecurityIps').length, 1);
  assert.equal(error(() => ds.whitelistRemove(INSTANCE, 'default', ['10.20.0.0/16'])).tag, 'invalid-input');
  assert.ok(cloud.calls.every((c) => c.params.ModifyMode !== 'Cover'));
});

test('connection properties: postgresql cross-account instance mode, never a password', () => {
  const ds = new FakeCloud().datasource;
  const request = {
    instance: INSTANCE,
    location: ds.discover(INSTANCE),
    ownerUid: '1862710497302214',
    roleName: 'dataworks-cross-account',
    database: 'sales',
    username: 'dw_reader',
    envType: 'Prod',
  };
  assert.deepEqual(JSON.parse(ds.connectionProperties(request)), {
    envType: 'Prod',
    regionId: REGION,
    instanceId: ID,
    database: 'sales',
    username: 'dw_reader',
    crossAccountOwnerId: '1862710497302214',
    crossAccountRoleName: 'dataworks-cross-account',
  });
  assert.doesNotMatch(ds.connectionProperties(request), /password/i);
  assert.equal(error(() => ds.connectionProperties({ ...request, envType: 'Test' })).tag, 'invalid-input');
  assert.equal(error(() => ds.connectionProperties({ ...request, ownerUid: 'A' })).tag, 'invalid-input');
  assert.equal(error(() => ds.connectionProperties({ ...request, database: ' ' })).tag, 'invalid-input');
});

test('entries compare like the Rust SDK', () => {
  assert.ok(sameEntry('10.0.0.1', '10.0.0.1/32'));
  assert.ok(!sameEntry('192.168.6.0/24', '192.168.6.0/25'));
  assert.equal(parseEntry('10.0.0/8'), null);
  assert.equal(parseEntry('256.0.0.1'), null);
  assert.equal(parseEntry('010.0.0.1'), null);
  assert.deepEqual(parseEntry(' 10.0.0.0/8 '), { addr: '10.0.0.0', prefix: 8 });
});

test('a bug becomes an `other` error instead of a trap', () => {
  const ds = guarded({ boom: () => null.x, fine: () => 1, typed: () => { throw new PluginError('not-found', 'x'); } });
  assert.equal(ds.fine(), 1);
  const e = error(() => ds.boom());
  assert.equal(e.tag, 'other');
  assert.match(e.val, /plugin bug in boom/);
  assert.equal(error(() => ds.typed()).tag, 'not-found');
});
