// ApsaraDB RDS for PostgreSQL (DataWorks type `postgresql`, RDS API 2014-08-15), written in
// JavaScript against the dwlink plugin contract `dwlink:plugin@0.2.0`. It mirrors the Rust
// `rds-mysql` plugin: discovery, the IP whitelist (Append/Delete only, never Cover) and the
// DataWorks connection properties in cross-account instance mode.
//
// This module is pure: it reaches the cloud only through the `cloud` object it is given
// (`call(request)` returns the JSON body or throws a cloud-error record; `log(level, text)`).
// `plugin.js` passes the host imports; the node tests pass a fake.

export const VERSION = '0.1.0';

const RDS = { product: 'Rds', version: '2014-08-15' };
const VPC = { product: 'Vpc', version: '2016-04-28' };

const DESCRIBE_ATTRIBUTE = 'DescribeDBInstanceAttribute';
const DESCRIBE_NET_INFO = 'DescribeDBInstanceNetInfo';
const DESCRIBE_IP_ARRAYS = 'DescribeDBInstanceIPArrayList';
const MODIFY_SECURITY_IPS = 'ModifySecurityIps';
const DESCRIBE_VSWITCH = 'DescribeVSwitchAttributes';
/** The request parameter naming the instance in every RDS call. */
const INSTANCE_PARAM = 'DBInstanceId';

/** RDS whitelist limits: 1000 entries per instance, 200 groups. */
export const LIMITS = { maxEntries: 1000, maxGroups: 200 };

const declared = (api, action) => `${api.product.toLowerCase()}:${action}`;

// ---------------------------------------------------------------------------------------
// Capabilities: the contract's `capability` record, as componentize-qjs maps it to JS (record
// fields in camelCase, an enum as its WIT case name, an option as the value or null, a tuple
// as an array).

/** A read capability: `action` names the link's instance in `instanceParam` (null: none). */
const read = (api, action, instanceParam) => ({
  product: api.product,
  version: api.version,
  action,
  access: 'read',
  instanceParam,
  whitelist: null,
});

/** A whitelist-write capability: where the instance, group, entries and mode go. */
const whitelistWrite = (api, action, instanceParam, whitelist) => ({
  product: api.product,
  version: api.version,
  action,
  access: 'whitelist-write',
  instanceParam,
  whitelist,
});

/** `ModifySecurityIps`: `ModifyMode` Append or Delete (never Cover), entries in `SecurityIps`. */
const MODIFY_PARAMS = {
  groupParam: 'DBInstanceIPArrayName',
  entriesParam: 'SecurityIps',
  modeParam: 'ModifyMode',
  appendMode: 'Append',
  deleteMode: 'Delete',
  fixedParams: [],
};

// ---------------------------------------------------------------------------------------
// Errors: the contract's `plugin-error` variant, thrown as a value.

/** A `plugin-error` value; thrown, it becomes the `err` of the export's result. */
export class PluginError {
  constructor(tag, val) {
    this.tag = tag;
    this.val = val;
  }
}

const notFound = (m) => new PluginError('not-found', m);
const invalidState = (m) => new PluginError('invalid-state', m);
const invalidInput = (m) => new PluginError('invalid-input', m);
const limitExceeded = (m) => new PluginError('limit-exceeded', m);
const other = (m) => new PluginError('other', m);

/** Names the resource in every message: `RDS instance pgm-xxx in cn-hangzhou`. */
function subject(kind, id, region) {
  return { kind, id, region, describe: () => `${kind} ${id} in ${region}` };
}
const instanceSubject = (i) => subject('RDS instance', i.id, i.region);

/** The cloud-error record inside whatever the host call threw. */
function asCloudError(e) {
  const v = e && typeof e === 'object' && 'payload' in e ? e.payload : e;
  if (v && typeof v === 'object' && typeof v.code === 'string') {
    return {
      code: v.code,
      message: String(v.message ?? ''),
      requestId: String(v.requestId ?? ''),
      httpStatus: Number(v.httpStatus ?? 0),
    };
  }
  return { code: 'dwlink.Plugin', message: String(v), requestId: '', httpStatus: 0 };
}

function classify(code) {
  const lower = code.toLowerCase();
  if (code.startsWith('dwlink.')) return ['other', 'This is a dwlink host refusal; see its message.'];
  if (lower.includes('throttling')) return ['other', 'The cloud is rate limiting this account; run again later.'];
  if (lower.startsWith('forbidden') || lower.includes('nopermission')) {
    return ['other', 'The credentials lack permission for this action; grant it to the RAM user or role.'];
  }
  if (['invalidaccesskeyid', 'signature', 'invalidapi', 'invalidproduct'].some((p) => lower.startsWith(p))) {
    return ['other', "Check the account's credentials and the region."];
  }
  if (lower.includes('notfound') || lower.includes('notexist')) return ['not-found'];
  if (['status', 'state', 'taskexists', 'task.conflict', 'operationconflict'].some((p) => lower.includes(p))) {
    return ['invalid-state'];
  }
  if (['quota', 'exceed', 'limit'].some((p) => lower.includes(p))) return ['limit-exceeded'];
  if (lower.startsWith('invalid') || lower.startsWith('missing')) return ['invalid-input'];
  return ['other', 'If it persists, open a ticket with the request id.'];
}

/** Turns a cloud error from `action` into the plugin error a user can act on. */
export function cloudError(s, action, thrown) {
  const err = asCloudError(thrown);
  const who = s.describe();
  const detail = `${action} answered ${err.code}: ${err.message}` +
    (err.requestId ? ` (request id ${err.requestId})` : '');
  const [tag, hint] = classify(err.code);
  switch (tag) {
    case 'not-found':
      return notFound(`${who} was not found (${detail}). Check the instance id and region in the link ` +
        'file, and that the credentials used belong to the account that owns it.');
    case 'invalid-state':
      return invalidState(`${who} is busy or not running (${detail}). Wait until it is Running with no ` +
        'task in progress, then run again.');
    case 'limit-exceeded':
      return limitExceeded(`${who}: a product limit was reached (${detail}). Remove whitelist entries ` +
        'or groups that are no longer used, then run again.');
    case 'invalid-input':
      return invalidInput(`${who}: the cloud refused the request (${detail}). Check the value it names.`);
    default:
      return new PluginError('cloud', { ...err, message: `${who}: ${action} failed: ${err.message}. ${hint}` });
  }
}

// ---------------------------------------------------------------------------------------
// Reading OpenAPI JSON leniently: numbers and strings alike, `{X: [..]}` or a bare object.

/** A field as a string ('' when absent or null). */
function str(v) {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

/** A list field: an array, a single object (XML-to-JSON style), or nothing. */
function list(v) {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object') return [v];
  return [];
}

/** A TCP port from a string or number; null when it is not 1..65535. */
function port(v) {
  const t = str(v).trim();
  if (!/^[0-9]{1,5}$/.test(t)) return null;
  const n = Number(t);
  return n >= 1 && n <= 65535 ? n : null;
}

/** Makes a call and parses its JSON body; a body that is not JSON is a cloud error too. */
function callJson(cloud, s, api, action, region, params) {
  let body;
  try {
    body = cloud.call({ product: api.product, version: api.version, action, region, params });
  } catch (e) {
    throw cloudError(s, declared(api, action), e);
  }
  try {
    const parsed = JSON.parse(body);
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch (e) {
    throw cloudError(s, declared(api, action), {
      code: 'dwlink.MalformedResponse',
      message: `the response is not JSON (${e.message})`,
      requestId: '',
      httpStatus: 0,
    });
  }
}

// ---------------------------------------------------------------------------------------
// Whitelist entries: IPv4 addresses (meaning /32) and CIDR blocks.

/** `{addr, prefix}` for `a.b.c.d` or `a.b.c.d/n`; null for anything else. */
export function parseEntry(text) {
  const t = String(text).trim();
  const m = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(?:\/([0-9]{1,2}))?$/.exec(t);
  if (!m) return null;
  const octets = m.slice(1, 5).map(Number);
  // Rust's Ipv4Addr parser (which the other plugins use) refuses leading zeros.
  if (m.slice(1, 5).some((o) => o.length > 1 && o.startsWith('0')) || octets.some((o) => o > 255)) return null;
  const prefix = m[5] === undefined ? 32 : Number(m[5]);
  if (prefix > 32) return null;
  return { addr: octets.join('.'), prefix };
}

/** `10.0.0.1` and `10.0.0.1/32` are the same entry; unparsable ones compare as written. */
export function sameEntry(a, b) {
  const x = parseEntry(a);
  const y = parseEntry(b);
  if (x && y) return x.addr === y.addr && x.prefix === y.prefix;
  return String(a).trim() === String(b).trim();
}

/** A product's comma-separated entry list, without blanks. */
export function splitList(text) {
  return str(text).split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** The asked entries, trimmed and without repeats; refuses garbage and `/0`. */
export function validateEntries(s, cidrs) {
  const out = [];
  for (const raw of cidrs) {
    const text = String(raw).trim();
    const entry = parseEntry(text);
    if (!entry) {
      throw invalidInput(`${s.describe()}: whitelist entry ${JSON.stringify(raw)} is not an IPv4 address ` +
        'or CIDR block (e.g. 172.16.66.0/24)');
    }
    if (entry.prefix === 0) {
      throw invalidInput(`${s.describe()}: whitelist entry ${text} would open the database to every ` +
        'address; dwlink only adds the networks that need access');
    }
    if (!out.some((e) => sameEntry(e, text))) out.push(text);
  }
  return out;
}

function refuseHidden(s, group) {
  if (group && group.attribute.toLowerCase() === 'hidden') {
    throw invalidInput(`${s.describe()}: whitelist group ${JSON.stringify(group.name)} is a hidden group ` +
      "the cloud's own services use; choose another group name");
  }
}

/** The entries to append so that `group` holds all of `cidrs` (empty: nothing to do). */
export function planAdd(s, groups, group, cidrs, limits) {
  const asked = validateEntries(s, cidrs);
  const existing = groups.find((g) => g.name === group);
  refuseHidden(s, existing);
  const present = existing ? existing.entries : [];
  const missing = asked.filter((a) => !present.some((p) => sameEntry(p, a)));
  if (missing.length === 0) return missing;
  const total = groups.reduce((n, g) => n + g.entries.length, 0);
  if (total + missing.length > limits.maxEntries) {
    throw limitExceeded(`${s.describe()}: adding ${missing.length} whitelist entries to the ${total} already ` +
      `there would exceed the limit of ${limits.maxEntries} entries per instance; remove entries that are ` +
      'no longer used');
  }
  if (!existing && groups.length >= limits.maxGroups) {
    throw limitExceeded(`${s.describe()}: creating whitelist group ${JSON.stringify(group)} would exceed the ` +
      `limit of ${limits.maxGroups} groups; remove a group that is no longer used or use an existing one`);
  }
  return missing;
}

/** Exactly those of `cidrs` present in `group`, as the product stores them. */
export function planRemove(s, groups, group, cidrs) {
  const asked = validateEntries(s, cidrs);
  const existing = groups.find((g) => g.name === group);
  if (!existing) return [];
  refuseHidden(s, existing);
  const doomed = existing.entries.filter((p) => asked.some((a) => sameEntry(p, a)));
  if (doomed.length > 0 && doomed.length === existing.entries.length &&
      existing.name.toLowerCase() === 'default') {
    throw invalidInput(`${s.describe()}: removing ${doomed.join(',')} would leave the default whitelist ` +
      'group empty, which the product refuses; add another entry to it first');
  }
  return doomed;
}

/** RDS group names: 2-120 characters of [a-z0-9_], starting with a letter, ending alphanumeric. */
function checkGroupName(s, name) {
  if (/^[a-z][a-z0-9_]{0,118}[a-z0-9]$/.test(name)) return;
  throw invalidInput(`${s.describe()}: whitelist group name ${JSON.stringify(name)} is not valid for RDS ` +
    '(2-120 characters: lowercase letters, digits and underscores, starting with a letter and ending with ' +
    'a letter or digit)');
}

// ---------------------------------------------------------------------------------------
// The RDS reads.

function attribute(cloud, instance) {
  const s = instanceSubject(instance);
  const body = callJson(cloud, s, RDS, DESCRIBE_ATTRIBUTE, instance.region, [[INSTANCE_PARAM, instance.id]]);
  const items = list(body.Items?.DBInstanceAttribute);
  const a = items.find((x) => str(x.DBInstanceId) === '' || str(x.DBInstanceId) === instance.id);
  if (!a) {
    throw notFound(`${s.describe()} was not found: ${declared(RDS, DESCRIBE_ATTRIBUTE)} returned no ` +
      'instance. Check the instance id and region in the link file.');
  }
  return {
    status: str(a.DBInstanceStatus),
    engine: str(a.Engine),
    networkType: str(a.InstanceNetworkType),
    zoneId: str(a.ZoneId),
    vpcId: str(a.VpcId),
    vswitchId: str(a.VSwitchId),
    connectionString: str(a.ConnectionString),
    port: a.Port,
  };
}

function requireRunning(instance, a) {
  if (a.status === 'Running') return;
  throw invalidState(`${instanceSubject(instance).describe()} is ${JSON.stringify(a.status)}, not Running, so ` +
    'its whitelist cannot be changed now; wait until it is Running, then run again');
}

function vswitch(cloud, region, vswitchId, owner) {
  const s = subject(`vSwitch of ${owner.kind} ${owner.id}`, vswitchId, region);
  const v = callJson(cloud, s, VPC, DESCRIBE_VSWITCH, region, [['VSwitchId', vswitchId]]);
  const cidr = str(v.CidrBlock);
  if (cidr === '') {
    throw notFound(`${s.describe()}: ${declared(VPC, DESCRIBE_VSWITCH)} returned no CIDR block; check that ` +
      'the vSwitch still exists');
  }
  return { zoneId: str(v.ZoneId), cidrBlock: cidr };
}

function modify(cloud, instance, group, entries, mode) {
  const s = instanceSubject(instance);
  requireRunning(instance, attribute(cloud, instance));
  cloud.log('info', `${s.describe()}: ${mode} ${entries.join(',')} in whitelist group ${group}`);
  callJson(cloud, s, RDS, MODIFY_SECURITY_IPS, instance.region, [
    [INSTANCE_PARAM, instance.id],
    [MODIFY_PARAMS.groupParam, group],
    [MODIFY_PARAMS.modeParam, mode],
    [MODIFY_PARAMS.entriesParam, entries.join(',')],
  ]);
  // The instance may be in a transient status while the change applies: the host waits for
  // `discover` to say it is running again.
}

// ---------------------------------------------------------------------------------------
// The six operations of `dwlink:plugin/datasource`.

/** The `datasource` export, calling the cloud through `cloud`. */
export function makeDatasource(cloud) {
  const whitelistList = (instance) => {
    const s = instanceSubject(instance);
    const body = callJson(cloud, s, RDS, DESCRIBE_IP_ARRAYS, instance.region, [[INSTANCE_PARAM, instance.id]]);
    return list(body.Items?.DBInstanceIPArray).map((g) => ({
      name: str(g.DBInstanceIPArrayName),
      entries: splitList(g.SecurityIPList),
      attribute: str(g.DBInstanceIPArrayAttribute),
    }));
  };

  return {
    describe() {
      return {
        name: 'rds-postgresql',
        version: VERSION,
        datasourceType: 'postgresql',
        product: RDS.product,
        apiVersion: RDS.version,
        // Exactly the calls this file makes; the host refuses any other, and checks each of
        // these against the link (its instance and region; for the write, its group, the
        // entries it asked for and Append/Delete only).
        capabilities: [
          read(RDS, DESCRIBE_ATTRIBUTE, INSTANCE_PARAM),
          read(RDS, DESCRIBE_NET_INFO, INSTANCE_PARAM),
          read(RDS, DESCRIBE_IP_ARRAYS, INSTANCE_PARAM),
          whitelistWrite(RDS, MODIFY_SECURITY_IPS, INSTANCE_PARAM, MODIFY_PARAMS),
          read(VPC, DESCRIBE_VSWITCH, null),
        ],
        summary: 'ApsaraDB RDS for PostgreSQL (JavaScript example plugin)',
      };
    },

    discover(instance) {
      const s = instanceSubject(instance);
      const a = attribute(cloud, instance);
      if (a.engine !== '' && a.engine.toLowerCase() !== 'postgresql') {
        throw invalidInput(`${s.describe()} runs ${a.engine}, not PostgreSQL; use the plugin for that engine`);
      }
      if (a.networkType.toLowerCase() === 'classic') {
        throw invalidState(`${s.describe()} is on the classic network; dwlink connects VPCs only. Switch the ` +
          'instance to a VPC first');
      }
      const net = callJson(cloud, s, RDS, DESCRIBE_NET_INFO, instance.region, [[INSTANCE_PARAM, instance.id]]);
      const isNormal = (n) => str(n.ConnectionStringType) === '' || str(n.ConnectionStringType) === 'Normal';
      const privateInfos = list(net.DBInstanceNetInfos?.DBInstanceNetInfo)
        .filter((n) => str(n.IPType).toLowerCase() === 'private');
      // The normal (read-write) endpoint first, then read-write-splitting ones (stable sort).
      privateInfos.sort((x, y) => Number(!isNormal(x)) - Number(!isNormal(y)));
      const endpoints = privateInfos.map((n) => {
        const p = port(n.Port);
        if (p === null) {
          throw other(`${s.describe()}: ${declared(RDS, DESCRIBE_NET_INFO)} returned port ` +
            `${JSON.stringify(n.Port)} for ${str(n.ConnectionString)}; expected a TCP port`);
        }
        return {
          host: str(n.ConnectionString),
          port: p,
          role: isNormal(n) ? 'primary' : 'read-write-splitting',
          // The IPv4 inside the VPC when RDS reports it; the host checks it lies in the vSwitch.
          address: str(n.IPAddress).trim() || null,
        };
      });
      if (endpoints.length === 0 && a.connectionString !== '' && port(a.port) !== null) {
        endpoints.push({ host: a.connectionString, port: port(a.port), role: 'primary', address: null });
      }
      if (endpoints.length === 0) {
        throw invalidState(`${s.describe()} has no private (VPC) endpoint; create an internal endpoint for ` +
          'it, then run again');
      }
      const first = privateInfos[0];
      const vpcId = (first && str(first.VPCId)) || a.vpcId;
      const vswitchId = (first && str(first.VSwitchId)) || a.vswitchId;
      if (vpcId === '' || vswitchId === '') {
        throw other(`${s.describe()}: the cloud did not say which VPC and vSwitch the instance is on`);
      }
      const vsw = vswitch(cloud, instance.region, vswitchId, s);
      return {
        region: instance.region,
        zone: vsw.zoneId || a.zoneId,
        vpcId,
        vswitchId,
        vswitchCidr: vsw.cidrBlock,
        endpoints,
        status: a.status,
        running: a.status === 'Running',
      };
    },

    whitelistList,

    whitelistAdd(instance, group, cidrs) {
      const s = instanceSubject(instance);
      const groups = whitelistList(instance);
      if (!groups.some((g) => g.name === group)) checkGroupName(s, group);
      const missing = planAdd(s, groups, group, cidrs, LIMITS);
      if (missing.length === 0) {
        cloud.log('info', `${s.describe()}: whitelist group ${group} already holds every entry; nothing to do`);
        return;
      }
      modify(cloud, instance, group, missing, 'Append');
    },

    whitelistRemove(instance, group, cidrs) {
      const groups = whitelistList(instance);
      const present = planRemove(instanceSubject(instance), groups, group, cidrs);
      if (present.length === 0) return;
      modify(cloud, instance, group, present, 'Delete');
    },

    connectionProperties(request) {
      const s = instanceSubject(request.instance);
      const bad = (what) => invalidInput(`${s.describe()}: connection properties: ${what}`);
      if (request.envType !== 'Dev' && request.envType !== 'Prod') {
        throw bad(`environment ${JSON.stringify(request.envType)} is neither Dev nor Prod`);
      }
      if (!/^[0-9]+$/.test(request.ownerUid)) {
        throw bad(`owner account UID ${JSON.stringify(request.ownerUid)} is not a numeric Alibaba Cloud UID`);
      }
      for (const [field, value] of [['RAM role name', request.roleName], ['database', request.database],
        ['user name', request.username]]) {
        if (String(value).trim() === '') throw bad(`the ${field} is empty; set it in the link file`);
      }
      // Never a password: the host adds it, so secrets never enter the sandbox.
      return JSON.stringify({
        envType: request.envType,
        regionId: request.instance.region,
        instanceId: request.instance.id,
        database: request.database,
        username: request.username,
        crossAccountOwnerId: request.ownerUid,
        crossAccountRoleName: request.roleName,
      });
    },
  };
}

/**
 * Wraps every operation so that a bug (a TypeError, ...) comes back as an `other` plugin error
 * with its message instead of trapping: the component has no stderr to print it on.
 */
export function guarded(datasource) {
  const out = {};
  for (const [name, fn] of Object.entries(datasource)) {
    out[name] = (...args) => {
      try {
        return fn(...args);
      } catch (e) {
        if (e instanceof PluginError) throw e;
        throw other(`rds-postgresql plugin bug in ${name}: ${e && e.stack ? e.stack : String(e)}`);
      }
    };
  }
  return out;
}
