"""RDS 2014-08-15, PolarDB 2017-08-01 and Dds 2015-12-01: discovery and whitelists."""

from conftest import A_REGION, A_VPC, A_VSW, MONGO_ID, POLARDB_ID, RDS_ID, wait_for


def running(api, product):
    """Waits out the transient status a whitelist change puts the instance in, as a client must."""
    if product == "rds":
        fetch = lambda: api.call("rds", "DescribeDBInstanceAttribute", account="A", dbinstance_id=RDS_ID)[
            "Items"
        ]["DBInstanceAttribute"][0]["DBInstanceStatus"]
    elif product == "polardb":
        fetch = lambda: api.call("polardb", "DescribeDBClusterAttribute", account="A", dbcluster_id=POLARDB_ID)[
            "DBClusterStatus"
        ]
    else:
        fetch = lambda: api.call("dds", "DescribeDBInstanceAttribute", account="A", dbinstance_id=MONGO_ID)[
            "DBInstances"
        ]["DBInstance"][0]["DBInstanceStatus"]
    wait_for(fetch, lambda s: s == "Running", f"{product} instance Running")


def rds_groups(api):
    items = api.call("rds", "DescribeDBInstanceIPArrayList", account="A", dbinstance_id=RDS_ID)
    return {g["DBInstanceIPArrayName"]: g["SecurityIPList"].split(",") for g in items["Items"]["DBInstanceIPArray"]}


def test_rds_discovery(api):
    attr = api.call("rds", "DescribeDBInstanceAttribute", account="A", dbinstance_id=RDS_ID)
    inst = attr["Items"]["DBInstanceAttribute"][0]
    assert (inst["DBInstanceId"], inst["VpcId"], inst["VSwitchId"]) == (RDS_ID, A_VPC, A_VSW)
    assert inst["DBInstanceStatus"] == "Running" and inst["RegionId"] == A_REGION
    net = api.call("rds", "DescribeDBInstanceNetInfo", account="A", dbinstance_id=RDS_ID)
    private = [n for n in net["DBInstanceNetInfos"]["DBInstanceNetInfo"] if n["IPType"] == "Private"]
    assert private and private[0]["Port"] == "3306" and private[0]["VPCId"] == A_VPC


def test_rds_whitelist_append_delete_keeps_others(api):
    before = rds_groups(api)
    assert before["default"] == ["10.20.0.0/16"]
    for _ in range(2):  # Append twice: one entry
        running(api, "rds")
        api.call(
            "rds",
            "ModifySecurityIps",
            account="A",
            dbinstance_id=RDS_ID,
            dbinstance_iparray_name="dataworks",
            modify_mode="Append",
            security_ips="172.16.66.0/24",
        )
    during = rds_groups(api)
    assert during["dataworks"] == ["172.16.66.0/24"]
    assert during["default"] == before["default"] and during["app"] == before["app"]
    running(api, "rds")
    api.call(
        "rds",
        "ModifySecurityIps",
        account="A",
        dbinstance_id=RDS_ID,
        dbinstance_iparray_name="dataworks",
        modify_mode="Delete",
        security_ips="172.16.66.0/24",
    )
    assert rds_groups(api) == before


def test_rds_errors(api):
    code, _, _ = api.error("rds", "DescribeDBInstanceAttribute", account="A", dbinstance_id="rm-doesnotexist0000000")
    assert code == "InvalidDBInstanceId.NotFound"
    code, _, _ = api.error(
        "rds", "ModifySecurityIps", account="A", dbinstance_id=RDS_ID, modify_mode="Append", security_ips="not-an-ip"
    )
    assert code
    # Another account's instance is invisible.
    code, _, _ = api.error("rds", "DescribeDBInstanceAttribute", account="B", dbinstance_id=RDS_ID)
    assert code == "InvalidDBInstanceId.NotFound"


def test_polardb_discovery_and_whitelist(api):
    attr = api.call("polardb", "DescribeDBClusterAttribute", account="A", dbcluster_id=POLARDB_ID)
    assert (attr["DBClusterId"], attr["VPCId"], attr["VSwitchId"]) == (POLARDB_ID, A_VPC, A_VSW)
    assert attr["DBClusterStatus"] == "Running"
    endpoints = api.call("polardb", "DescribeDBClusterEndpoints", account="A", dbcluster_id=POLARDB_ID)["Items"]
    cluster = [e for e in endpoints if e["EndpointType"] == "Cluster"]
    assert cluster and any(a["NetType"] == "Private" for a in cluster[0]["AddressItems"])

    def groups():
        wl = api.call("polardb", "DescribeDBClusterAccessWhitelist", account="A", dbcluster_id=POLARDB_ID)
        return {g["DBClusterIPArrayName"]: g["SecurityIps"].split(",") for g in wl["Items"]["DBClusterIPArray"]}

    before = groups()
    running(api, "polardb")
    api.call(
        "polardb",
        "ModifyDBClusterAccessWhitelist",
        account="A",
        dbcluster_id=POLARDB_ID,
        dbcluster_iparray_name="dataworks",
        modify_mode="Append",
        security_ips="172.16.66.0/24",
    )
    assert groups()["dataworks"] == ["172.16.66.0/24"]
    running(api, "polardb")
    code, _, _ = api.error(
        "polardb",
        "ModifyDBClusterAccessWhitelist",
        account="A",
        dbcluster_id=POLARDB_ID,
        dbcluster_iparray_name="Bad-Name!",
        modify_mode="Append",
        security_ips="172.16.66.0/24",
    )
    assert code
    running(api, "polardb")
    api.call(
        "polardb",
        "ModifyDBClusterAccessWhitelist",
        account="A",
        dbcluster_id=POLARDB_ID,
        dbcluster_iparray_name="dataworks",
        modify_mode="Delete",
        security_ips="172.16.66.0/24",
    )
    assert groups() == before


def test_mongodb_discovery_and_whitelist(api):
    attr = api.call("dds", "DescribeDBInstanceAttribute", account="A", dbinstance_id=MONGO_ID)
    inst = attr["DBInstances"]["DBInstance"][0]
    assert (inst["DBInstanceId"], inst["VPCId"], inst["VSwitchId"]) == (MONGO_ID, A_VPC, A_VSW)
    primary = [r for r in inst["ReplicaSets"]["ReplicaSet"] if r["ReplicaSetRole"] == "Primary"]
    assert primary and primary[0]["ConnectionPort"] in ("3717", 3717)

    def groups():
        ips = api.call("dds", "DescribeSecurityIps", account="A", dbinstance_id=MONGO_ID)
        return {g["SecurityIpGroupName"]: g["SecurityIpList"].split(",") for g in ips["SecurityIpGroups"]["SecurityIpGroup"]}

    before = groups()
    args = dict(
        dbinstance_id=MONGO_ID, security_ip_group_name="dataworks", modify_mode="Append", security_ips="172.16.66.0/24"
    )
    running(api, "dds")
    api.call("dds", "ModifySecurityIps", account="A", **args)
    running(api, "dds")
    code, _, _ = api.error("dds", "ModifySecurityIps", account="A", **args)  # Append of a duplicate fails
    assert code == "InvalidSecurityIPList.Duplicate"
    assert groups()["dataworks"] == ["172.16.66.0/24"]
    running(api, "dds")
    api.call("dds", "ModifySecurityIps", account="A", **{**args, "modify_mode": "Delete"})
    assert groups() == before
