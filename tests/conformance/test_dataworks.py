"""DataWorks 2024-05-18: resource groups, networks, routes, data sources, connectivity."""

import json

from conftest import A_UID, B_REGION, NETWORK_ID, PROJECT_ID, RDS_ID, RESOURCE_GROUP, B_VPC, B_VSW_E


def test_resource_group_and_network(api):
    listed = api.call("dataworks", "ListResourceGroups", account="B", region=B_REGION, project_id=PROJECT_ID)
    groups = listed["PagingInfo"]["ResourceGroupList"]
    rg = next(g for g in groups if g["Id"] == RESOURCE_GROUP)
    assert rg["DefaultVpcId"] == B_VPC and rg["DefaultVswicthId"] == B_VSW_E  # sic
    got = api.call("dataworks", "GetResourceGroup", account="B", region=B_REGION, id=RESOURCE_GROUP)
    assert got["ResourceGroup"]["DefaultVswitchId"] == B_VSW_E
    nets = api.call("dataworks", "ListNetworks", account="B", region=B_REGION, resource_group_id=RESOURCE_GROUP)
    net = next(n for n in nets["PagingInfo"]["NetworkList"] if n["Id"] == NETWORK_ID)
    assert (net["VpcId"], net["VswitchId"]) == (B_VPC, B_VSW_E)


def test_routes(api):
    created = api.call(
        "dataworks",
        "CreateRoute",
        account="B",
        region=B_REGION,
        network_id=NETWORK_ID,
        destination_cidr="192.168.6.0/24",
        resource_group_id=RESOURCE_GROUP,
    )
    route_id = created["Id"]
    routes = api.call("dataworks", "ListRoutes", account="B", region=B_REGION, resource_group_id=RESOURCE_GROUP)
    assert ("192.168.6.0/24", NETWORK_ID) in [
        (r["DestinationCidr"], r["NetworkId"]) for r in routes["PagingInfo"]["RouteList"]
    ]
    code, _, _ = api.error(
        "dataworks",
        "CreateRoute",
        account="B",
        region=B_REGION,
        network_id=NETWORK_ID,
        destination_cidr="192.168.6.0/33",
        resource_group_id=RESOURCE_GROUP,
    )
    assert code
    api.call("dataworks", "DeleteRoute", account="B", region=B_REGION, id=route_id)
    routes = api.call("dataworks", "ListRoutes", account="B", region=B_REGION, resource_group_id=RESOURCE_GROUP)
    assert route_id not in [r["Id"] for r in routes["PagingInfo"]["RouteList"]]


def test_data_source_and_computed_connectivity(api):
    props = {
        "envType": "Prod",
        "regionId": "cn-hangzhou",
        "instanceId": RDS_ID,
        "database": "orders",
        "username": "dataworks_reader",
        "password": "conformance-password",
        "crossAccountOwnerId": A_UID,
        "crossAccountRoleName": "dataworks-cross-account",
    }
    ds = api.call(
        "dataworks",
        "CreateDataSource",
        account="B",
        region=B_REGION,
        project_id=PROJECT_ID,
        name="conformance_mysql",
        type="mysql",
        connection_properties_mode="InstanceMode",
        connection_properties=json.dumps(props),
    )["Id"]
    got = api.call("dataworks", "GetDataSource", account="B", region=B_REGION, id=ds)["DataSource"]
    assert got["Name"] == "conformance_mysql" and got["Type"] == "mysql"
    assert "conformance-password" not in json.dumps(got)
    listed = api.call("dataworks", "ListDataSources", account="B", region=B_REGION, project_id=PROJECT_ID)
    assert "conformance_mysql" in [d["Name"] for d in listed["PagingInfo"]["DataSources"]]

    # Nothing connects the two VPCs in the seed: the verdict is computed, not Connectable.
    result = api.call(
        "dataworks",
        "TestDataSourceConnectivity",
        account="B",
        region=B_REGION,
        data_source_id=ds,
        project_id=PROJECT_ID,
        resource_group_id=RESOURCE_GROUP,
    )["Connectivity"]
    assert result["ConnectState"] in ("Unreachable", "ConfigError")
    assert result["ConnectMessage"]
    assert result["DetailLogs"]

    api.call("dataworks", "DeleteDataSource", account="B", region=B_REGION, id=ds)
    listed = api.call("dataworks", "ListDataSources", account="B", region=B_REGION, project_id=PROJECT_ID)
    assert "conformance_mysql" not in [d["Name"] for d in listed["PagingInfo"]["DataSources"]]
