"""VPC 2016-04-28 and VpcPeer 2022-01-01: the peering half of a link, step by step."""

from conftest import (
    A_REGION,
    A_RTB,
    A_UID,
    A_VPC,
    A_VSW,
    B_REGION,
    B_RTB,
    B_UID,
    B_VPC,
    wait_for,
)


def test_describe_vpcs_and_vswitches(api):
    vpcs = api.call("vpc", "DescribeVpcs", account="A", region_id=A_REGION)
    vpc = next(v for v in vpcs["Vpcs"]["Vpc"] if v["VpcId"] == A_VPC)
    assert vpc["CidrBlock"] == "192.168.0.0/16"
    assert vpc["VpcName"] == "Account_A_hangzhou_VPC"
    assert A_VSW in vpc["VSwitchIds"]["VSwitchId"]
    attr = api.call("vpc", "DescribeVpcAttribute", account="A", region_id=A_REGION, vpc_id=A_VPC)
    assert attr["CidrBlock"] == "192.168.0.0/16"
    vsws = api.call("vpc", "DescribeVSwitches", account="A", region_id=A_REGION, vpc_id=A_VPC)
    vsw = next(v for v in vsws["VSwitches"]["VSwitch"] if v["VSwitchId"] == A_VSW)
    assert (vsw["CidrBlock"], vsw["ZoneId"]) == ("192.168.6.0/24", "cn-hangzhou-h")
    one = api.call("vpc", "DescribeVSwitchAttributes", account="A", region_id=A_REGION, v_switch_id=A_VSW)
    assert one["CidrBlock"] == "192.168.6.0/24" and one["VpcId"] == A_VPC


def test_create_vswitch_is_idempotent_and_validated(api):
    args = dict(
        region_id=A_REGION,
        vpc_id=A_VPC,
        zone_id="cn-hangzhou-i",
        cidr_block="192.168.7.0/24",
        v_switch_name="dwlink-conformance",
        client_token="conformance-vsw-1",
    )
    first = api.call("vpc", "CreateVSwitch", account="A", **args)["VSwitchId"]
    again = api.call("vpc", "CreateVSwitch", account="A", **args)["VSwitchId"]
    assert first == again
    code, _, _ = api.error(
        "vpc",
        "CreateVSwitch",
        account="A",
        region_id=A_REGION,
        vpc_id=A_VPC,
        zone_id="cn-hangzhou-j",
        cidr_block="192.168.6.128/25",
    )
    assert code  # overlaps the existing 192.168.6.0/24
    vsws = api.call("vpc", "DescribeVSwitches", account="A", region_id=A_REGION, vpc_id=A_VPC)
    assert first in [v["VSwitchId"] for v in vsws["VSwitches"]["VSwitch"]]


def test_route_tables(api):
    tables = api.call("vpc", "DescribeRouteTableList", account="A", region_id=A_REGION, vpc_id=A_VPC)
    ids = [t["RouteTableId"] for t in tables["RouterTableList"]["RouterTableListType"]]
    assert A_RTB in ids
    entries = api.call("vpc", "DescribeRouteEntryList", account="A", region_id=A_REGION, route_table_id=A_RTB)
    assert "RouteEntrys" in entries  # sic: the API's own spelling


def peering_status(api, pcc):
    return api.call("vpcpeer", "GetVpcPeerConnectionAttribute", account="A", instance_id=pcc)["Status"]


def test_peering_link_end_to_end(api):
    pcc = api.call(
        "vpcpeer",
        "CreateVpcPeerConnection",
        account="A",
        region_id=A_REGION,
        vpc_id=A_VPC,
        accepting_ali_uid=int(B_UID),
        accepting_region_id=B_REGION,
        accepting_vpc_id=B_VPC,
        name="Account_A to Account_B",
        client_token="conformance-pcc-1",
    )["InstanceId"]
    assert pcc.startswith("pcc-")
    attr = api.call("vpcpeer", "GetVpcPeerConnectionAttribute", account="A", instance_id=pcc)
    assert attr["OwnerId"] in (int(A_UID), A_UID)
    assert attr["AcceptingVpc"]["VpcId"] == B_VPC
    wait_for(lambda: peering_status(api, pcc), lambda s: s == "Accepting", "peering Accepting")

    # Only the accepter's account may accept.
    code, _, _ = api.error("vpcpeer", "AcceptVpcPeerConnection", account="A", instance_id=pcc)
    assert code
    api.call("vpcpeer", "AcceptVpcPeerConnection", account="B", region=B_REGION, instance_id=pcc)
    wait_for(lambda: peering_status(api, pcc), lambda s: s == "Activated", "peering Activated")

    listed = api.call("vpcpeer", "ListVpcPeerConnections", account="A", region_id=A_REGION)
    assert pcc in [c["InstanceId"] for c in listed["VpcPeerConnects"]]

    routes = {}
    for account, region, rtb, dest in (
        ("A", A_REGION, A_RTB, "172.16.66.0/24"),
        ("B", B_REGION, B_RTB, "192.168.6.0/24"),
    ):
        routes[account] = api.call(
            "vpc",
            "CreateRouteEntry",
            account=account,
            region=region,
            region_id=region,
            route_table_id=rtb,
            destination_cidr_block=dest,
            next_hop_type="VpcPeer",
            next_hop_id=pcc,
            route_entry_name="dwlink-conformance",
            client_token=f"conformance-route-{account}",
        )["RouteEntryId"]

        def entry(account=account, region=region, rtb=rtb, dest=dest):
            listed = api.call(
                "vpc",
                "DescribeRouteEntryList",
                account=account,
                region=region,
                region_id=region,
                route_table_id=rtb,
                destination_cidr_block=dest,
            )
            return listed["RouteEntrys"]["RouteEntry"]

        found = wait_for(entry, lambda e: e and e[0]["Status"] == "Available", "route entry Available")
        hop = found[0]["NextHops"]["NextHop"][0]
        assert (hop["NextHopType"], hop["NextHopId"]) == ("VpcPeer", pcc)

    # The same destination twice on one table is refused.
    code, _, _ = api.error(
        "vpc",
        "CreateRouteEntry",
        account="A",
        region_id=A_REGION,
        route_table_id=A_RTB,
        destination_cidr_block="172.16.66.0/24",
        next_hop_type="VpcPeer",
        next_hop_id=pcc,
    )
    assert code

    for account, region in (("A", A_REGION), ("B", B_REGION)):
        api.call("vpc", "DeleteRouteEntry", account=account, region=region, region_id=region, route_entry_id=routes[account])
    api.call("vpcpeer", "DeleteVpcPeerConnection", account="A", instance_id=pcc)


def test_route_to_a_foreign_peering_is_refused(api):
    code, _, _ = api.error(
        "vpc",
        "CreateRouteEntry",
        account="A",
        region_id=A_REGION,
        route_table_id=A_RTB,
        destination_cidr_block="10.99.0.0/24",
        next_hop_type="VpcPeer",
        next_hop_id="pcc-doesnotexist000000",
    )
    assert code
