import pytest
from botocore.exceptions import ClientError

from sim.pipeline import faultpoints


@pytest.fixture(autouse=True)
def _clear():
    yield
    faultpoints.configure(None)


def test_inert_without_configuration():
    faultpoints.configure(None)
    assert not faultpoints.active()
    faultpoints.reach("after_claims")  # nothing happens


def test_crash_fires_at_its_point_only_the_first_times(tmp_path):
    faultpoints.configure({"crash_at": "after_claims", "crash_times": 2, "state_dir": str(tmp_path)})
    faultpoints.reach("after_track")
    for _ in range(2):
        with pytest.raises(faultpoints.InjectedCrash):
            faultpoints.reach("after_claims")
    faultpoints.reach("after_claims")  # the third time passes


def test_injected_api_errors_on_a_client(tmp_path):
    import boto3

    faultpoints.configure({"fail_calls": {"sqs.ListQueues": {"code": "ThrottlingException", "times": 1}},
                           "state_dir": str(tmp_path)})
    client = boto3.client("sqs", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                          aws_access_key_id="x", aws_secret_access_key="x")
    faultpoints.install(client)
    with pytest.raises(ClientError) as info:
        client.list_queues()
    assert info.value.response["Error"]["Code"] == "ThrottlingException"
