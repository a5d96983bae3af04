"""CBN 2017-09-12 with the VPC grant: the CEN half of a link, across accounts and regions."""

from conftest import (
    A_REGION,
    A_RTB,
    A_UID,
    A_VPC,
    A_VSW,
    B_REGION,
    B_UID,
    B_VPC,
    B_VSW_E,
    B_VSW_F,
    wait_for,
)


def zone_mappings(api, pairs):
    model = api.model("cbn", "CreateTransitRouterVpcAttachmentRequestZoneMappings")
    return [model(v_switch_id=v, zone_id=z) for v, z in pairs]


def attachment_status(api, region, attachment):
    listed = api.call(
        "cbn",
        "ListTransitRouterVpcAttachments",
        account="B",
        region_id=region,
        transit_router_attachment_id=attachment,
    )
    return [a["Status"] for a in listed["TransitRouterAttachments"]]


def test_cen_link_end_to_end(api):
    cen = api.call("cbn", "CreateCen", account="B", name="dwlink-conformance", client_token="conf-cen")["CenId"]
    assert cen.startswith("cen-")
    cens = api.call("cbn", "DescribeCens", account="B")
    assert cen in [c["CenId"] for c in cens["Cens"]["Cen"]]
    wait_for(
        lambda: [c["Status"] for c in api.call("cbn", "DescribeCens", account="B")["Cens"]["Cen"] if c["CenId"] == cen],
        lambda s: s == ["Active"],
        "CEN Active",
    )

    for region in (B_REGION, A_REGION):
        zones = api.call("cbn", "ListTransitRouterAvailableResource", account="B", region_id=region)
        assert len(zones["AvailableZones"]) >= 2 and zones["MasterZones"], zones

    routers = {}
    for region in (B_REGION, A_REGION):
        routers[region] = api.call(
            "cbn", "CreateTransitRouter", account="B", region_id=region, cen_id=cen, client_token=f"conf-tr-{region}"
        )["TransitRouterId"]
        wait_for(
            lambda region=region: [
                t["Status"]
                for t in api.call("cbn", "ListTransitRouters", account="B", region_id=region, cen_id=cen)["TransitRouters"]
            ],
            lambda s: s == ["Active"],
            "transit router Active",
        )

    b_attach = api.call(
        "cbn",
        "CreateTransitRouterVpcAttachment",
        account="B",
        region_id=B_REGION,
        cen_id=cen,
        transit_router_id=routers[B_REGION],
        vpc_id=B_VPC,
        zone_mappings=zone_mappings(api, [(B_VSW_E, "cn-shanghai-e"), (B_VSW_F, "cn-shanghai-f")]),
        client_token="conf-attach-b",
    )["TransitRouterAttachmentId"]

    # A second vSwitch in another zone for A's side, then A's VPC without a grant is refused.
    vsw_i = api.call(
        "vpc",
        "CreateVSwitch",
        account="A",
        region_id=A_REGION,
        vpc_id=A_VPC,
        zone_id="cn-hangzhou-i",
        cidr_block="192.168.8.0/24",
    )["VSwitchId"]
    wait_for(
        lambda: [
            v["Status"]
            for v in api.call("vpc", "DescribeVSwitches", account="A", region_id=A_REGION, v_switch_id=vsw_i)[
                "VSwitches"
            ]["VSwitch"]
        ],
        lambda s: s == ["Available"],
        "vSwitch Available",
    )
    a_args = dict(
        region_id=A_REGION,
        cen_id=cen,
        transit_router_id=routers[A_REGION],
        vpc_id=A_VPC,
        vpc_owner_id=int(A_UID),
        zone_mappings=zone_mappings(api, [(A_VSW, "cn-hangzhou-h"), (vsw_i, "cn-hangzhou-i")]),
    )
    code, _, _ = api.error("cbn", "CreateTransitRouterVpcAttachment", account="B", **a_args)
    assert code

    api.call(
        "vpc",
        "GrantInstanceToCen",
        account="A",
        region_id=A_REGION,
        cen_id=cen,
        cen_owner_id=int(B_UID),
        instance_id=A_VPC,
        instance_type="VPC",
    )
    rules = api.call(
        "vpc", "DescribeGrantRulesToCen", account="A", region_id=A_REGION, instance_id=A_VPC, instance_type="VPC"
    )
    assert cen in [r["CenInstanceId"] for r in rules["CenGrantRules"]["CbnGrantRule"]]

    a_attach = api.call(
        "cbn", "CreateTransitRouterVpcAttachment", account="B", client_token="conf-attach-a", **a_args
    )["TransitRouterAttachmentId"]
    for region, attachment in ((B_REGION, b_attach), (A_REGION, a_attach)):
        wait_for(lambda r=region, a=attachment: attachment_status(api, r, a), lambda s: s == ["Attached"], "Attached")

    peer = api.call(
        "cbn",
        "CreateTransitRouterPeerAttachment",
        account="B",
        region_id=A_REGION,
        cen_id=cen,
        transit_router_id=routers[A_REGION],
        peer_transit_router_id=routers[B_REGION],
        peer_transit_router_region_id=B_REGION,
        bandwidth_type="DataTransfer",
        bandwidth=10,
        client_token="conf-peer",
    )["TransitRouterAttachmentId"]
    wait_for(
        lambda: [
            a["Status"]
            for a in api.call(
                "cbn", "ListTransitRouterPeerAttachments", account="B", region_id=A_REGION, cen_id=cen
            )["TransitRouterAttachments"]
        ],
        lambda s: s == ["Attached"],
        "peer attachment Attached",
    )

    unlink = []
    for region, attachments in ((B_REGION, [b_attach]), (A_REGION, [a_attach, peer])):
        tables = api.call(
            "cbn", "ListTransitRouterRouteTables", account="B", transit_router_id=routers[region]
        )["TransitRouterRouteTables"]
        system = [t for t in tables if t["TransitRouterRouteTableType"] == "System"]
        assert len(system) == 1
        table = system[0]["TransitRouterRouteTableId"]
        unlink.append((table, attachments))
        for attachment in attachments:
            api.call(
                "cbn",
                "AssociateTransitRouterAttachmentWithRouteTable",
                account="B",
                transit_router_attachment_id=attachment,
                transit_router_route_table_id=table,
            )
            api.call(
                "cbn",
                "EnableTransitRouterRouteTablePropagation",
                account="B",
                transit_router_attachment_id=attachment,
                transit_router_route_table_id=table,
            )
        wait_for(
            lambda t=table: [
                a["Status"]
                for a in api.call(
                    "cbn", "ListTransitRouterRouteTableAssociations", account="B", transit_router_route_table_id=t
                )["TransitRouterAssociations"]
            ],
            lambda s: s and all(x == "Active" for x in s),
            "associations Active",
        )
        wait_for(
            lambda t=table: [
                a["Status"]
                for a in api.call(
                    "cbn", "ListTransitRouterRouteTablePropagations", account="B", transit_router_route_table_id=t
                )["TransitRouterPropagations"]
            ],
            lambda s: s and all(x == "Active" for x in s),
            "propagations Active",
        )
        entries = api.call(
            "cbn", "ListTransitRouterRouteEntries", account="B", transit_router_route_table_id=table
        )["TransitRouterRouteEntries"]
        assert entries, f"no propagated routes in {table}"

    route = api.call(
        "vpc",
        "CreateRouteEntry",
        account="A",
        region_id=A_REGION,
        route_table_id=A_RTB,
        destination_cidr_block="172.16.66.0/24",
        next_hop_type="Attachment",
        next_hop_id=a_attach,
    )["RouteEntryId"]
    assert route

    # Teardown, as `dwlink-host destroy` does it: every delete, in reverse order.
    wait_for(
        lambda: api.call(
            "vpc", "DescribeRouteEntryList", account="A", region_id=A_REGION, route_table_id=A_RTB, route_entry_id=route
        )["RouteEntrys"]["RouteEntry"],
        lambda e: e and e[0]["Status"] == "Available",
        "route entry Available",
    )
    api.call("vpc", "DeleteRouteEntry", account="A", region_id=A_REGION, route_entry_id=route)
    for table, attachments in unlink:
        for attachment in attachments:
            for action in ("DisableTransitRouterRouteTablePropagation", "DissociateTransitRouterAttachmentFromRouteTable"):
                api.call(
                    "cbn",
                    action,
                    account="B",
                    transit_router_attachment_id=attachment,
                    transit_router_route_table_id=table,
                )
        assert not api.call(
            "cbn", "ListTransitRouterRouteTablePropagations", account="B", transit_router_route_table_id=table
        )["TransitRouterPropagations"]
    # A transit router with live attachments is refused.
    code, _, _ = api.error("cbn", "DeleteTransitRouter", account="B", transit_router_id=routers[A_REGION])
    assert code == "IncorrectStatus.TransitRouter"
    api.call("cbn", "DeleteTransitRouterPeerAttachment", account="B", transit_router_attachment_id=peer)
    wait_for(
        lambda: api.call("cbn", "ListTransitRouterPeerAttachments", account="B", region_id=A_REGION, cen_id=cen)[
            "TransitRouterAttachments"
        ],
        lambda s: s == [],
        "peer attachment gone",
    )
    for region, attachment in ((B_REGION, b_attach), (A_REGION, a_attach)):
        api.call("cbn", "DeleteTransitRouterVpcAttachment", account="B", transit_router_attachment_id=attachment)
        wait_for(lambda r=region, a=attachment: attachment_status(api, r, a), lambda s: s == [], "attachment gone")
    api.call(
        "vpc",
        "RevokeInstanceFromCen",
        account="A",
        region_id=A_REGION,
        cen_id=cen,
        cen_owner_id=int(B_UID),
        instance_id=A_VPC,
        instance_type="VPC",
    )
    api.call("vpc", "DeleteVSwitch", account="A", region_id=A_REGION, v_switch_id=vsw_i)
    for region in (B_REGION, A_REGION):
        api.call("cbn", "DeleteTransitRouter", account="B", transit_router_id=routers[region])
    api.call("cbn", "DeleteCen", account="B", cen_id=cen)
    assert cen not in [c["CenId"] for c in api.call("cbn", "DescribeCens", account="B")["Cens"]["Cen"]]

