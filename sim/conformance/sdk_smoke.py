# Smoke test with the official Python SDKs (V3 and V1 signing) against a running simulator.
# Usage: dwlink-host sim --timing immediate --ready-file R & python sdk_smoke.py R
# (needs alibabacloud-vpc20160428, -vpcpeer20220101, -cbn20170912, -sts20150401, tea-openapi)
import json, sys
from alibabacloud_tea_openapi.models import Config
from alibabacloud_vpc20160428.client import Client as Vpc
from alibabacloud_vpc20160428 import models as vm
from alibabacloud_vpcpeer20220101.client import Client as Peer
from alibabacloud_vpcpeer20220101 import models as pm
from alibabacloud_cbn20170912.client import Client as Cbn
from alibabacloud_cbn20170912 import models as cm
from alibabacloud_sts20150401.client import Client as Sts
from alibabacloud_sts20150401 import models as sm

ready = json.load(open(sys.argv[1]))
ep = ready['endpoint'].replace('http://', '')
acc = {a['name']: a for a in ready['accounts']}
def cfg(name, v1=False, token=None, key=None, secret=None):
    a = acc[name]
    c = Config(access_key_id=key or a['access_key_id'], access_key_secret=secret or a['access_key_secret'],
               security_token=token, endpoint=ep, protocol='http', region_id=a['region'])
    if v1: c.signature_algorithm = 'v2'
    return c
for v1 in (False, True):
    vpc_a = Vpc(cfg('A', v1))
    r = vpc_a.describe_vpcs(vm.DescribeVpcsRequest(region_id='cn-hangzhou'))
    assert r.body.vpcs.vpc[0].vpc_name == 'Account_A_hangzhou_VPC', r.body
    r = vpc_a.describe_route_entry_list(vm.DescribeRouteEntryListRequest(region_id='cn-hangzhou', route_table_id='vtb-bp1simhzrtb000000001'))
    assert r.body.route_entrys.route_entry[0].destination_cidr_block == '192.168.6.0/24'
    sts_b = Sts(cfg('B', v1))
    r = sts_b.assume_role(sm.AssumeRoleRequest(role_arn='acs:ram::1862710497302214:role/dataworks-cross-account', role_session_name='sdk smoke'.replace(' ', '-'), duration_seconds=3600))
    c = r.body.credentials
    role = Vpc(cfg('B', v1, token=c.security_token, key=c.access_key_id, secret=c.access_key_secret))
    r = role.describe_vpc_attribute(vm.DescribeVpcAttributeRequest(region_id='cn-hangzhou', vpc_id='vpc-bp1simhzvpc000000001'))
    assert r.body.owner_id == 1862710497302214
    r = Sts(cfg('B', v1, token=c.security_token, key=c.access_key_id, secret=c.access_key_secret)).get_caller_identity()
    assert r.body.identity_type == 'AssumedRoleUser', r.body
    peer_b = Peer(cfg('B', v1))
    r = peer_b.create_vpc_peer_connection(pm.CreateVpcPeerConnectionRequest(region_id='cn-shanghai', vpc_id='vpc-uf6simshvpc000000001',
        accepting_ali_uid=1862710497302214, accepting_region_id='cn-hangzhou', accepting_vpc_id='vpc-bp1simhzvpc000000001', name='smoke test', client_token='sdk-%s' % v1))
    pcc = r.body.instance_id
    r = Peer(cfg('A', v1)).get_vpc_peer_connection_attribute(pm.GetVpcPeerConnectionAttributeRequest(instance_id=pcc))
    assert r.body.accepting_vpc.vpc_id == 'vpc-bp1simhzvpc000000001'
    Peer(cfg('A', v1)).accept_vpc_peer_connection(pm.AcceptVpcPeerConnectionRequest(instance_id=pcc))
    r = peer_b.list_vpc_peer_connections(pm.ListVpcPeerConnectionsRequest(region_id='cn-shanghai', vpc_id=['vpc-uf6simshvpc000000001']))
    assert r.body.total_count >= 1
    cbn_b = Cbn(cfg('B', v1))
    cen = cbn_b.create_cen(cm.CreateCenRequest(name='smoke')).body.cen_id
    r = cbn_b.describe_cens(cm.DescribeCensRequest(filter=[cm.DescribeCensRequestFilter(key='CenId', value=[cen])]))
    assert r.body.cens.cen[0].cen_id == cen
    try:
        vpc_a.create_route_entry(vm.CreateRouteEntryRequest(region_id='cn-hangzhou', route_table_id='vtb-bp1simhzrtb000000001', destination_cidr_block='10.9.0.0/16', next_hop_type='VpcPeer', next_hop_id='pcc-nope'))
        raise SystemExit('expected error')
    except Exception as e:
        assert 'InvalidNextHopId.NotFound' in str(e), e
    # A's role in B is absent: B's key cannot see A's VPC.
    try:
        Vpc(cfg('B', v1)).describe_vpc_attribute(vm.DescribeVpcAttributeRequest(region_id='cn-hangzhou', vpc_id='vpc-bp1simhzvpc000000001'))
        raise SystemExit('expected error')
    except Exception as e:
        assert 'InvalidVpcId.NotFound' in str(e), e
    peer_b.delete_vpc_peer_connection(pm.DeleteVpcPeerConnectionRequest(instance_id=pcc, force=True))
    print('ok', 'v1' if v1 else 'v3')
