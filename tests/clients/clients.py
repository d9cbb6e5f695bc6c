"""boto3 against coffer: put/get/list, multipart (low level and managed
transfer), presigned GET/PUT, and the IAM/STS APIs (a user whose key may do
only what its policy allows, AWS's error codes). Prints one "ok   - name" or
"FAIL - name" line per check; run.sh counts them. Usage: clients.py ENDPOINT
SRC_DIR RUN_ID (credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."""

import hashlib
import json
import os
import sys
import traceback
import urllib.request

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MIB = 1024 * 1024
failures = 0


def check(name, function):
    global failures
    try:
        result = function()
        if result is False:
            raise AssertionError("check returned False")
        print(f"ok   - boto3 {name}", flush=True)
    except Exception:  # noqa: BLE001 - every failure is reported, none stops the run
        failures += 1
        print(f"FAIL - boto3 {name}", flush=True)
        for line in traceback.format_exc().splitlines()[-6:]:
            print(f"       {line}", flush=True)


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(MIB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_stream(body):
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(MIB), b""):
        digest.update(chunk)
    return digest.hexdigest()


def expect_error(code, status, function):
    """Runs function, which must fail with AWS error code and HTTP status."""
    try:
        function()
    except ClientError as error:
        got = (error.response["Error"].get("Code"), error.response["ResponseMetadata"].get("HTTPStatusCode"))
        assert got == (code, status), f"expected {(code, status)}, got {got}: {error}"
        return
    raise AssertionError(f"expected {code}, the call succeeded")


def client(service, endpoint, **credentials):
    # One attempt: a server error must show, not be retried away. IAM and STS
    # keep boto3's default signer, as their users' code would.
    config = Config(retries={"max_attempts": 1})
    if service == "s3":
        config = config.merge(Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", config=config, **credentials)


def iam_flow(endpoint, run_id):
    """The root makes a user with a read-only inline policy on one bucket; the
    user's own key then reads there and nothing more. Ends by deleting the
    user and the bucket."""
    s3, iam = client("s3", endpoint), client("iam", endpoint)
    bucket, user = f"cli-boto3-iam-{run_id}", f"cli-boto3-{run_id}"
    state = {}

    def setup():
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="hello", Body=b"hello")

    check("iam: root creates a bucket and an object", setup)

    def root_get_user():
        # GetUser without UserName describes the caller: for an account
        # root, the account itself.
        arn = iam.get_user()["User"]["Arn"]
        assert arn.endswith(":root"), arn
        state["account"] = arn.split(":")[4]

    check("iam get_user() as root", root_get_user)
    check("iam create_user", lambda: iam.create_user(UserName=user))
    check(
        "iam create_user twice: EntityAlreadyExists",
        lambda: expect_error("EntityAlreadyExists", 409, lambda: iam.create_user(UserName=user)),
    )
    check(
        "iam get_user of a missing user: NoSuchEntity",
        lambda: expect_error("NoSuchEntity", 404, lambda: iam.get_user(UserName=f"{user}-missing")),
    )

    def access_keys():
        keys = [iam.create_access_key(UserName=user)["AccessKey"] for _ in range(2)]
        state["keys"] = [key["AccessKeyId"] for key in keys]
        state["credentials"] = {
            "aws_access_key_id": keys[0]["AccessKeyId"],
            "aws_secret_access_key": keys[0]["SecretAccessKey"],
        }
        listed = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        assert sorted(key["AccessKeyId"] for key in listed) == sorted(state["keys"]), listed
        # AWS allows two keys per user.
        expect_error("LimitExceeded", 409, lambda: iam.create_access_key(UserName=user))

    check("iam create_access_key x2, third: LimitExceeded", access_keys)

    def policy(actions):
        return json.dumps({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": actions,
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }],
        })

    check(
        "iam put_user_policy with s3:Frobnicate: MalformedPolicyDocument",
        lambda: expect_error(
            "MalformedPolicyDocument",
            400,
            lambda: iam.put_user_policy(UserName=user, PolicyName="bad", PolicyDocument=policy(["s3:Frobnicate"])),
        ),
    )
    check(
        "iam put_user_policy",
        lambda: iam.put_user_policy(
            UserName=user, PolicyName="read", PolicyDocument=policy(["s3:GetObject", "s3:ListBucket"])
        ),
    )

    def as_user(service):
        return client(service, endpoint, **state["credentials"])

    def caller_identity():
        identity = as_user("sts").get_caller_identity()
        want = f"arn:aws:iam::{state['account']}:user/{user}"
        assert identity["Arn"] == want, (identity["Arn"], want)
        assert identity["Account"] == state["account"], identity

    check("sts get_caller_identity with the user's key", caller_identity)
    check(
        "iam user: get_object allowed",
        lambda: as_user("s3").get_object(Bucket=bucket, Key="hello")["Body"].read() == b"hello",
    )
    check(
        "iam user: put_object AccessDenied",
        lambda: expect_error(
            "AccessDenied", 403, lambda: as_user("s3").put_object(Bucket=bucket, Key="other", Body=b"no")
        ),
    )
    check(
        "iam delete_user with keys: DeleteConflict",
        lambda: expect_error("DeleteConflict", 409, lambda: iam.delete_user(UserName=user)),
    )

    def cleanup():
        for key in state.get("keys", []):
            iam.delete_access_key(UserName=user, AccessKeyId=key)
        for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
            iam.delete_user_policy(UserName=user, PolicyName=name)
        iam.delete_user(UserName=user)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)

    check("iam delete keys, policy, user and bucket", cleanup)


def main():
    endpoint, src_dir, run_id = sys.argv[1:4]
    s3 = client("s3", endpoint)
    bucket = f"cli-boto3-{run_id}"
    files = sorted(os.listdir(src_dir))
    check("create_bucket", lambda: s3.create_bucket(Bucket=bucket))

    for name in files:
        path = os.path.join(src_dir, name)
        want = sha256_file(path)

        def put_get(name=name, path=path, want=want):
            with open(path, "rb") as handle:
                s3.put_object(Bucket=bucket, Key=f"put/{name}", Body=handle)
            got = s3.get_object(Bucket=bucket, Key=f"put/{name}")
            assert sha256_stream(got["Body"]) == want
            assert got["ContentLength"] == os.path.getsize(path)

        check(f"put_object/get_object {name}", put_get)

        def managed(name=name, path=path, want=want):
            # 5 MiB threshold and chunks: the bigger files go multipart.
            config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
            s3.upload_file(path, bucket, f"managed/{name}", Config=config)
            target = path + ".down"
            s3.download_file(bucket, f"managed/{name}", target, Config=config)
            try:
                assert sha256_file(target) == want
            finally:
                os.remove(target)

        check(f"upload_file/download_file {name}", managed)

    def listing():
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3}):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        expected = sorted([f"managed/{n}" for n in files] + [f"put/{n}" for n in files])
        assert keys == expected, (keys, expected)

    check("list_objects_v2 paginated", listing)

    def low_level_multipart():
        path = os.path.join(src_dir, "five-mib-plus-one.bin")
        with open(path, "rb") as handle:
            data = handle.read()
        upload = s3.create_multipart_upload(Bucket=bucket, Key="mpu")
        parts = []
        for number, start in enumerate(range(0, len(data), 5 * MIB), start=1):
            part = s3.upload_part(
                Bucket=bucket, Key="mpu", UploadId=upload["UploadId"], PartNumber=number, Body=data[start:start + 5 * MIB]
            )
            parts.append({"PartNumber": number, "ETag": part["ETag"]})
        listed = s3.list_parts(Bucket=bucket, Key="mpu", UploadId=upload["UploadId"])
        assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2]
        done = s3.complete_multipart_upload(
            Bucket=bucket, Key="mpu", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
        )
        md5s = b"".join(hashlib.md5(data[s:s + 5 * MIB]).digest() for s in range(0, len(data), 5 * MIB))
        assert done["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-2"', done["ETag"]
        got = s3.get_object(Bucket=bucket, Key="mpu")["Body"].read()
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()

    check("multipart create/upload_part/list_parts/complete", low_level_multipart)

    def abort():
        upload = s3.create_multipart_upload(Bucket=bucket, Key="aborted")
        s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=upload["UploadId"])
        try:
            s3.list_parts(Bucket=bucket, Key="aborted", UploadId=upload["UploadId"])
        except s3.exceptions.NoSuchUpload:
            return
        raise AssertionError("list_parts after abort succeeded")

    check("abort_multipart_upload then NoSuchUpload", abort)

    def presigned():
        body = os.urandom(4096)
        put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presigned"}, ExpiresIn=300)
        # An explicit type: urllib would otherwise send a form content type.
        request = urllib.request.Request(put_url, data=body, method="PUT", headers={"Content-Type": "application/octet-stream"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
        get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "presigned"}, ExpiresIn=300)
        with urllib.request.urlopen(get_url, timeout=60) as response:
            assert response.read() == body

    check("presigned PUT and GET", presigned)

    def missing_key():
        try:
            s3.get_object(Bucket=bucket, Key="does-not-exist")
        except s3.exceptions.NoSuchKey:
            return
        raise AssertionError("GET of a missing key succeeded")

    check("NoSuchKey", missing_key)

    def cleanup():
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                result = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                assert not result.get("Errors"), result.get("Errors")
        s3.delete_bucket(Bucket=bucket)

    check("delete_objects and delete_bucket", cleanup)
    iam_flow(endpoint, run_id)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
