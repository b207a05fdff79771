"""An S3 endpoint that checks SigV4 signatures, to prove signed headers right (not merely present).

MinIO (``MEET_TEST_S3_URL``, or testcontainers when Docker answers) always checks them. moto's server
only does once authentication is switched on (``/moto-api/reset-auth``), and then only for IAM
access keys: so the local fallback creates an IAM user with an access key allowed every S3 action,
creates the bucket, then switches authentication on for every later request.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import boto3
import httpx

from tests.support.services import S3, _stop, docker_available, free_port, start_s3, wait_for_port

ALLOW_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


@contextlib.contextmanager
def start_verifying_s3(bucket: str) -> Iterator[S3]:
    """An S3 endpoint with ``bucket`` created, that refuses any request not signed with its key."""
    if os.environ.get("MEET_TEST_S3_URL") or docker_available():
        with start_s3() as server:
            server.create_bucket(bucket)
            yield server
        return
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process=process)
        url = f"http://127.0.0.1:{port}"
        iam = boto3.client(
            "iam", endpoint_url=url, aws_access_key_id="setup", aws_secret_access_key="setup", region_name="us-east-1"
        )
        iam.create_user(UserName="meet")
        iam.put_user_policy(UserName="meet", PolicyName="s3", PolicyDocument=json.dumps(ALLOW_S3))
        key = iam.create_access_key(UserName="meet")["AccessKey"]
        server = S3(endpoint_url=url, access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
        server.create_bucket(bucket)
        httpx.post(f"{url}/moto-api/reset-auth", content=b"0").raise_for_status()
        yield server
    finally:
        _stop(process)
