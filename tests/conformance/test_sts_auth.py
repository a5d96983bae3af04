"""STS, RAM roles, signatures and cross-account isolation, through the official SDKs."""

from conftest import A_REGION, A_UID, A_VPC, B_UID, ROLE_ARN


def test_get_caller_identity_names_each_account(api):
    assert api.call("sts", "GetCallerIdentity", account="A")["AccountId"] == A_UID
    assert api.call("sts", "GetCallerIdentity", account="B")["AccountId"] == B_UID


def test_assume_role_from_b_acts_in_a(api):
    body = api.call(
        "sts", "AssumeRole", account="B", role_arn=ROLE_ARN, role_session_name="dwlink-conformance"
    )
    creds = body["Credentials"]
    assert creds["AccessKeyId"].startswith("STS.")
    assert creds["SecurityToken"] and creds["AccessKeySecret"] and creds["Expiration"]
    assert body["AssumedRoleUser"]["Arn"].startswith("acs:ram::" + A_UID)
    temporary = (creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"])
    who = api.call("sts", "GetCallerIdentity", account="A", credentials=temporary)
    assert who["AccountId"] == A_UID
    vpcs = api.call("vpc", "DescribeVpcs", account="A", credentials=temporary, region_id=A_REGION)
    assert A_VPC in [v["VpcId"] for v in vpcs["Vpcs"]["Vpc"]]


def test_assume_role_refused_to_an_untrusted_account(api):
    # The role trusts account B only; account A's own key may not assume it.
    code, _, _ = api.error(
        "sts", "AssumeRole", account="A", role_arn=ROLE_ARN, role_session_name="dwlink-conformance"
    )
    assert code


def test_temporary_key_without_its_token_is_refused(api):
    body = api.call(
        "sts", "AssumeRole", account="B", role_arn=ROLE_ARN, role_session_name="dwlink-conformance"
    )
    creds = body["Credentials"]
    code, _, _ = api.error(
        "vpc",
        "DescribeVpcs",
        account="A",
        credentials=(creds["AccessKeyId"], creds["AccessKeySecret"], None),
        region_id=A_REGION,
    )
    assert code


def test_wrong_secret_is_a_signature_mismatch(api, sim):
    ak = sim.accounts["A"]["access_key_id"]
    code, _, _ = api.error(
        "vpc", "DescribeVpcs", account="A", credentials=(ak, "not-the-secret", None), region_id=A_REGION
    )
    assert code == "SignatureDoesNotMatch"


def test_unknown_access_key(api):
    code, _, _ = api.error(
        "vpc",
        "DescribeVpcs",
        account="A",
        credentials=("LTAI5tNoSuchKey000000000", "whatever", None),
        region_id=A_REGION,
    )
    assert code == "InvalidAccessKeyId.NotFound"


def test_an_account_sees_only_its_own_vpcs(api):
    vpcs = api.call("vpc", "DescribeVpcs", account="B", region_id=A_REGION)
    assert A_VPC not in [v["VpcId"] for v in vpcs.get("Vpcs", {}).get("Vpc", [])]
    code, _, _ = api.error("vpc", "DescribeVpcAttribute", account="B", region_id=A_REGION, vpc_id=A_VPC)
    assert code
