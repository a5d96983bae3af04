"""Drives `dwlink-host sim` with the official Alibaba Cloud Python SDKs.

Each test module gets a fresh simulator on 127.0.0.1 (default scenario: the product document's
example, see examples/scenarios/seed.toml), started as a real process with `--ready-file`.
Every test runs twice: signature V3 (ACS3-HMAC-SHA256, the SDK default) and V1 (HMAC-SHA1).
"""

import importlib
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from alibabacloud_tea_openapi import models as open_api_models

ROOT = Path(__file__).resolve().parents[2]
HOST_BIN = os.environ.get("DWLINK_HOST_BIN", str(ROOT / "target" / "release" / "dwlink-host"))

# Seed identifiers (examples/scenarios/seed.toml).
A_UID = "1862710497302214"
B_UID = "1539826603711058"
A_REGION = "cn-hangzhou"
B_REGION = "cn-shanghai"
A_VPC = "vpc-bp1simhzvpc000000001"
A_VSW = "vsw-bp1simhzvsw00000000h"
A_RTB = "vtb-bp1simhzrtb000000001"
B_VPC = "vpc-uf6simshvpc000000001"
B_VSW_E = "vsw-uf6simshvsw00000000e"
B_VSW_F = "vsw-uf6simshvsw00000000f"
B_RTB = "vtb-uf6simshrtb000000001"
RDS_ID = "rm-bp1simmysqlsource001"
POLARDB_ID = "pc-bp1simpolardbsrc0001"
MONGO_ID = "dds-bp1simmongosrc00001"
ROLE_ARN = "acs:ram::1862710497302214:role/dataworks-cross-account"
PROJECT_ID = 61234
RESOURCE_GROUP = "Serverless_res_group_524257424564736_6831777003001"
NETWORK_ID = 1001

PACKAGES = {
    "vpc": "alibabacloud_vpc20160428",
    "vpcpeer": "alibabacloud_vpcpeer20220101",
    "cbn": "alibabacloud_cbn20170912",
    "rds": "alibabacloud_rds20140815",
    "polardb": "alibabacloud_polardb20170801",
    "dds": "alibabacloud_dds20151201",
    "dataworks": "alibabacloud_dataworks_public20240518",
    "sts": "alibabacloud_sts20150401",
}


# Actions whose SDK method takes no request object.
NO_REQUEST = {"GetCallerIdentity"}



def sdk_method(client, action):
    """The SDK's method for `action`. Its snake_case is irregular (`describe_dbinstance_iparray_list`,
    `create_vswitch`), so match ignoring underscores and case."""
    wanted = action.lower()
    for name in dir(client):
        if not name.startswith("_") and not name.endswith("_with_options") and not name.endswith("_async"):
            if name.replace("_", "") == wanted:
                return getattr(client, name)
    raise AttributeError(f"{type(client).__module__} has no method for {action}")


class Sim:
    def __init__(self, proc, ready):
        self.proc = proc
        self.endpoint = ready["endpoint"]
        self.accounts = {a["name"]: a for a in ready["accounts"]}
        self.roles = ready.get("roles", [])

    def host(self):
        return self.endpoint.split("://", 1)[1].rstrip("/")


@pytest.fixture(scope="module", params=["v3", "v1"])
def signing(request):
    return request.param


@pytest.fixture(scope="module")
def sim(signing):
    """A fresh simulator per (module, signing), so the V1 pass starts from the seed too."""
    if not Path(HOST_BIN).exists():
        pytest.fail(f"{HOST_BIN} is missing: run `cargo xtask build` first")
    with tempfile.TemporaryDirectory() as tmp:
        ready_file = Path(tmp) / "ready.json"
        proc = subprocess.Popen(
            # polls:2 keeps every async state observable (Creating, then Active) without waiting on
            # wall-clock durations: each status read advances the lifecycle.
            [HOST_BIN, "sim", "--listen", "127.0.0.1:0", "--timing", "polls:2", "--ready-file", str(ready_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + 20
        while not ready_file.exists() or ready_file.stat().st_size == 0:
            if proc.poll() is not None:
                pytest.fail(f"dwlink-host sim exited: {proc.stderr.read().decode()}")
            if time.time() > deadline:
                proc.kill()
                pytest.fail("dwlink-host sim did not write its ready file within 20 s")
            time.sleep(0.02)
        time.sleep(0.05)  # the file is written whole, but be safe against a partial read
        ready = json.loads(ready_file.read_text())
        yield Sim(proc, ready)
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


class Api:
    """`api.call("vpc", "DescribeVpcs", account="A", region_id=...)` through the official SDK."""

    def __init__(self, sim, signing):
        self.sim = sim
        self.signing = signing

    def client(self, product, account="A", credentials=None, region=None):
        pkg = PACKAGES[product]
        client_mod = importlib.import_module(f"{pkg}.client")
        acct = self.sim.accounts[account]
        if credentials is None:
            credentials = (acct["access_key_id"], acct["access_key_secret"], None)
        ak, secret, token = credentials
        config = open_api_models.Config(
            access_key_id=ak,
            access_key_secret=secret,
            security_token=token,
            endpoint=self.sim.host(),
            protocol="http",
            region_id=region or acct["region"],
            read_timeout=10000,
            connect_timeout=5000,
        )
        if self.signing == "v1":
            config.signature_algorithm = "v2"
        return client_mod.Client(config)

    def model(self, product, name):
        models = importlib.import_module(f"{PACKAGES[product]}.models")
        return getattr(models, name)

    def call(self, product, action, account="A", credentials=None, region=None, **kwargs):
        client = self.client(product, account, credentials, region)
        method = sdk_method(client, action)
        if action in NO_REQUEST:
            response = method()
        else:
            response = method(self.model(product, f"{action}Request")(**kwargs))
        assert response.status_code == 200, (action, response.status_code)
        body = response.body.to_map()
        assert body.get("RequestId"), f"{action}: no RequestId in {body}"
        return body

    def error(self, product, action, account="A", credentials=None, region=None, **kwargs):
        """Calls and expects an error; returns (code, message, status)."""
        with pytest.raises(Exception) as info:
            self.call(product, action, account, credentials, region, **kwargs)
        err = info.value
        code = getattr(err, "code", None)
        assert code, f"{action}: expected an API error, got {err!r}"
        return code, getattr(err, "message", ""), getattr(err, "status_code", None) or getattr(
            err, "statusCode", None
        )


@pytest.fixture(scope="module")
def api(sim, signing):
    return Api(sim, signing)


def wait_for(fetch, ok, what, timeout=20.0):
    """Polls `fetch()` until `ok(value)`; the simulator's lifecycles advance on reads or time."""
    deadline = time.time() + timeout
    value = fetch()
    while not ok(value):
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {value}")
        time.sleep(0.05)
        value = fetch()
    return value
