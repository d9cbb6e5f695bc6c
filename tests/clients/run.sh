#!/usr/bin/env bash
# Real S3 clients against a running coffer: awscli, boto3, s3cmd (SigV4 and
# SigV2) and rclone move 0 B, 1 B, 5 MiB + 1 and 100 MiB objects and check
# them by SHA-256. awscli and boto3 also drive the IAM and STS query APIs: an
# IAM user's key may do on S3 only what the user's policies allow.
#
# Usage: tests/clients/run.sh ENDPOINT ACCESS_KEY SECRET_KEY
#   ENDPOINT like http://127.0.0.1:9000. The clients must be on PATH (the
#   project's .venv/bin: scripts/test sets that up).
# Prints exactly one summary line "N passed, M failed" at the end and exits
# non-zero when M > 0.
set -uo pipefail

if [[ $# -ne 3 ]]; then
    echo "usage: $0 ENDPOINT ACCESS_KEY SECRET_KEY" >&2
    exit 2
fi
ENDPOINT=$1
export AWS_ACCESS_KEY_ID=$2
export AWS_SECRET_ACCESS_KEY=$3
export AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d -t coffer-clients-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

PASSED=0
FAILED=0
RUN_ID=$(date +%s)-$$

pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1" >&2; }
# check NAME COMMAND...: one check, passing when the command succeeds.
check() {
    local name=$1
    shift
    local log="$WORK/last.log"
    if "$@" >"$log" 2>&1; then
        pass "$name"
    else
        fail "$name"
        sed 's/^/       /' "$log" | tail -n 15 >&2
    fi
}
same_sha() { [[ "$(sha256sum <"$1" | cut -d' ' -f1)" == "$(sha256sum <"$2" | cut -d' ' -f1)" ]]; }

# Test files: names carry their sizes.
mkdir -p "$WORK/src" "$WORK/down"
: >"$WORK/src/zero.bin"
printf 'x' >"$WORK/src/one.bin"
head -c $((5 * 1024 * 1024 + 1)) /dev/urandom >"$WORK/src/five-mib-plus-one.bin"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$WORK/src/hundred-mib.bin"
FILES=(zero.bin one.bin five-mib-plus-one.bin hundred-mib.bin)

aws_s3() { aws --endpoint-url "$ENDPOINT" "$@"; }

# ---- awscli ---------------------------------------------------------------
if command -v aws >/dev/null; then
    B="cli-aws-$RUN_ID"
    check "aws s3 mb" aws_s3 s3 mb "s3://$B"
    for f in "${FILES[@]}"; do
        check "aws s3 cp up $f" aws_s3 s3 cp --only-show-errors "$WORK/src/$f" "s3://$B/cp/$f"
        check "aws s3 cp down $f" aws_s3 s3 cp --only-show-errors "s3://$B/cp/$f" "$WORK/down/aws-$f"
        check "aws sha256 $f" same_sha "$WORK/src/$f" "$WORK/down/aws-$f"
    done
    check "aws s3 ls lists 4 objects" bash -c "[[ \$(aws --endpoint-url '$ENDPOINT' s3 ls 's3://$B/cp/' | wc -l) -eq 4 ]]"
    check "aws s3 sync up" aws_s3 s3 sync --only-show-errors "$WORK/src" "s3://$B/sync/"
    mkdir -p "$WORK/down/sync"
    check "aws s3 sync down" aws_s3 s3 sync --only-show-errors "s3://$B/sync/" "$WORK/down/sync"
    for f in "${FILES[@]}"; do
        check "aws sync sha256 $f" same_sha "$WORK/src/$f" "$WORK/down/sync/$f"
    done
    # Low-level multipart: two parts (5 MiB and the rest).
    split -b $((5 * 1024 * 1024)) -d "$WORK/src/five-mib-plus-one.bin" "$WORK/part-"
    upload_id=$(aws_s3 s3api create-multipart-upload --bucket "$B" --key api/mpu --query UploadId --output text 2>"$WORK/err.log")
    if [[ -n "$upload_id" && "$upload_id" != "None" ]]; then
        pass "aws s3api create-multipart-upload"
        etag1=$(aws_s3 s3api upload-part --bucket "$B" --key api/mpu --upload-id "$upload_id" --part-number 1 --body "$WORK/part-00" --query ETag --output text)
        etag2=$(aws_s3 s3api upload-part --bucket "$B" --key api/mpu --upload-id "$upload_id" --part-number 2 --body "$WORK/part-01" --query ETag --output text)
        [[ -n "$etag1" && -n "$etag2" ]] && pass "aws s3api upload-part x2" || fail "aws s3api upload-part x2"
        printf '{"Parts":[{"PartNumber":1,"ETag":%s},{"PartNumber":2,"ETag":%s}]}' "$etag1" "$etag2" >"$WORK/parts.json"
        check "aws s3api complete-multipart-upload" aws_s3 s3api complete-multipart-upload --bucket "$B" --key api/mpu --upload-id "$upload_id" --multipart-upload "file://$WORK/parts.json"
        check "aws s3api get-object mpu" aws_s3 s3api get-object --bucket "$B" --key api/mpu "$WORK/down/aws-mpu"
        check "aws mpu sha256" same_sha "$WORK/src/five-mib-plus-one.bin" "$WORK/down/aws-mpu"
    else
        fail "aws s3api create-multipart-upload"
        sed 's/^/       /' "$WORK/err.log" >&2
    fi
    check "aws s3 rm --recursive" aws_s3 s3 rm --only-show-errors --recursive "s3://$B/"
    check "aws s3 rb" aws_s3 s3 rb "s3://$B"
else
    fail "awscli is not installed"
fi

# ---- aws iam / sts ------------------------------------------------------------
# An IAM user of the root's account gets a key and an inline policy, and that
# key may then do exactly what the policy allows on S3. Negative checks look for
# the error code: a non-zero exit alone could be any failure.
if command -v aws >/dev/null; then
    # fails_with CODE COMMAND...: passes when COMMAND fails naming error CODE.
    fails_with() {
        local code=$1 out
        shift
        if out=$("$@" 2>&1); then
            printf '%s\nexpected %s, the command succeeded\n' "$out" "$code"
            return 1
        fi
        printf '%s\n' "$out"
        grep -qF "($code)" <<<"$out"
    }
    IB="cli-aws-iam-$RUN_ID"
    IU="cli-iam-$RUN_ID"
    IP="cli-iam-managed-$RUN_ID"
    USER_KEY=
    USER_SECRET=
    as_user() { AWS_ACCESS_KEY_ID=$USER_KEY AWS_SECRET_ACCESS_KEY=$USER_SECRET aws --endpoint-url "$ENDPOINT" "$@"; }
    printf 'hello from %s\n' "$RUN_ID" >"$WORK/iam-hello.txt"
    check "aws iam: root makes bucket $IB" aws_s3 s3 mb "s3://$IB"
    check "aws iam: root puts hello.txt" aws_s3 s3 cp --only-show-errors "$WORK/iam-hello.txt" "s3://$IB/hello.txt"
    account=$(aws_s3 sts get-caller-identity --query Account --output text 2>"$WORK/err.log")
    root_arn=$(aws_s3 sts get-caller-identity --query Arn --output text 2>>"$WORK/err.log")
    if [[ -n "$account" && "$root_arn" == "arn:aws:iam::$account:root" ]]; then
        pass "aws sts get-caller-identity as root"
    else
        fail "aws sts get-caller-identity as root (account '$account', arn '$root_arn')"
        sed 's/^/       /' "$WORK/err.log" >&2
    fi
    check "aws iam create-user" aws_s3 iam create-user --user-name "$IU"
    check "aws iam create-user twice: EntityAlreadyExists" fails_with EntityAlreadyExists aws_s3 iam create-user --user-name "$IU"
    read -r USER_KEY USER_SECRET < <(aws_s3 iam create-access-key --user-name "$IU" \
        --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text 2>"$WORK/err.log")
    if [[ -n "$USER_KEY" && -n "$USER_SECRET" && "$USER_KEY" != "None" ]]; then
        pass "aws iam create-access-key"
        cat >"$WORK/iam-read.json" <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
   "Resource": ["arn:aws:s3:::$IB", "arn:aws:s3:::$IB/*"]}]}
JSON
        check "aws iam put-user-policy (read $IB)" aws_s3 iam put-user-policy --user-name "$IU" \
            --policy-name read --policy-document "file://$WORK/iam-read.json"
        check "aws iam list-user-policies shows it" \
            bash -c "[[ \$(aws --endpoint-url '$ENDPOINT' iam list-user-policies --user-name '$IU' --query 'PolicyNames' --output text) == read ]]"
        user_arn_is() { [[ "$(as_user sts get-caller-identity --query Arn --output text)" == "arn:aws:iam::$account:user/$IU" ]]; }
        check "aws sts get-caller-identity as the user shows its ARN" user_arn_is
        user_reads_hello() { as_user s3 cp "s3://$IB/hello.txt" - | cmp - "$WORK/iam-hello.txt"; }
        check "aws iam user: s3 cp down (allowed)" user_reads_hello
        check "aws iam user: s3 ls (allowed)" as_user s3 ls "s3://$IB/"
        check "aws iam user: s3 cp up AccessDenied" fails_with AccessDenied as_user s3 cp "$WORK/iam-hello.txt" "s3://$IB/other"
        check "aws iam user: s3 ls of all buckets AccessDenied" fails_with AccessDenied as_user s3 ls
        check "aws iam user: iam create-user AccessDenied" fails_with AccessDenied as_user iam create-user --user-name "$IU-not"

        # A managed policy adds to the inline one while attached, and only then.
        cat >"$WORK/iam-write.json" <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::$IB/other"}]}
JSON
        policy_arn=$(aws_s3 iam create-policy --policy-name "$IP" --policy-document "file://$WORK/iam-write.json" \
            --query Policy.Arn --output text 2>"$WORK/err.log")
        if [[ "$policy_arn" == "arn:aws:iam::$account:policy/$IP" ]]; then
            pass "aws iam create-policy"
            check "aws iam attach-user-policy" aws_s3 iam attach-user-policy --user-name "$IU" --policy-arn "$policy_arn"
            check "aws iam list-attached-user-policies shows it" \
                bash -c "[[ \$(aws --endpoint-url '$ENDPOINT' iam list-attached-user-policies --user-name '$IU' --query 'AttachedPolicies[].PolicyArn' --output text) == '$policy_arn' ]]"
            check "aws iam user: s3 cp up with the attached policy" as_user s3 cp --only-show-errors "$WORK/iam-hello.txt" "s3://$IB/other"
            check "aws iam delete-policy while attached: DeleteConflict" fails_with DeleteConflict aws_s3 iam delete-policy --policy-arn "$policy_arn"
            check "aws iam detach-user-policy" aws_s3 iam detach-user-policy --user-name "$IU" --policy-arn "$policy_arn"
            check "aws iam list-attached-user-policies is empty" \
                bash -c "[[ -z \$(aws --endpoint-url '$ENDPOINT' iam list-attached-user-policies --user-name '$IU' --query 'AttachedPolicies[].PolicyArn' --output text) ]]"
            check "aws iam user: s3 cp up after detach AccessDenied" fails_with AccessDenied as_user s3 cp "$WORK/iam-hello.txt" "s3://$IB/other"
            check "aws iam delete-policy" aws_s3 iam delete-policy --policy-arn "$policy_arn"
        else
            fail "aws iam create-policy (arn '$policy_arn')"
            sed 's/^/       /' "$WORK/err.log" >&2
        fi

        # Deactivation takes effect at once: changes are linearizable. s3api
        # get-object, not s3 cp, whose HEAD answer has no body to name the code.
        check "aws iam update-access-key Inactive" aws_s3 iam update-access-key --user-name "$IU" \
            --access-key-id "$USER_KEY" --status Inactive
        check "aws iam user: inactive key InvalidAccessKeyId" fails_with InvalidAccessKeyId \
            as_user s3api get-object --bucket "$IB" --key hello.txt "$WORK/down/iam-inactive"
        check "aws iam user: inactive key on sts InvalidClientTokenId" fails_with InvalidClientTokenId as_user sts get-caller-identity
        check "aws iam delete-user with a key: DeleteConflict" fails_with DeleteConflict aws_s3 iam delete-user --user-name "$IU"
        check "aws iam delete-access-key" aws_s3 iam delete-access-key --user-name "$IU" --access-key-id "$USER_KEY"
        check "aws iam delete-user-policy" aws_s3 iam delete-user-policy --user-name "$IU" --policy-name read
    else
        fail "aws iam create-access-key"
        sed 's/^/       /' "$WORK/err.log" >&2
    fi
    check "aws iam delete-user" aws_s3 iam delete-user --user-name "$IU"
    check "aws iam get-user of the deleted user: NoSuchEntity" fails_with NoSuchEntity aws_s3 iam get-user --user-name "$IU"
    check "aws iam: root removes $IB" aws_s3 s3 rb --force "s3://$IB"
fi

# ---- boto3 ----------------------------------------------------------------
if python3 -c 'import boto3' 2>/dev/null; then
    # The Python side prints "ok   - ..." / "FAIL - ..." lines; count them.
    python3 "$HERE/clients.py" "$ENDPOINT" "$WORK/src" "$RUN_ID" >"$WORK/boto3.log" 2>&1
    boto_status=$?
    cat "$WORK/boto3.log"
    boto_passed=$(grep -c '^ok   - ' "$WORK/boto3.log")
    boto_failed=$(grep -c '^FAIL - ' "$WORK/boto3.log")
    PASSED=$((PASSED + boto_passed))
    FAILED=$((FAILED + boto_failed))
    if [[ $boto_status -ne 0 && $boto_failed -eq 0 ]]; then
        fail "boto3 script crashed (exit $boto_status)"
    fi
else
    fail "boto3 is not installed"
fi

# ---- s3cmd (SigV4, then SigV2) ---------------------------------------------
if command -v s3cmd >/dev/null; then
    host=${ENDPOINT#*://}
    cat >"$WORK/s3cfg" <<CFG
[default]
access_key = $AWS_ACCESS_KEY_ID
secret_key = $AWS_SECRET_ACCESS_KEY
host_base = $host
host_bucket = $host
use_https = $([[ $ENDPOINT == https://* ]] && echo True || echo False)
bucket_location = us-east-1
signature_v2 = False
check_ssl_certificate = False
CFG
    for mode in v4 v2; do
        extra=()
        [[ $mode == v2 ]] && extra=(--signature-v2)
        s3() { s3cmd -c "$WORK/s3cfg" --no-progress "${extra[@]}" "$@"; }
        B="cli-s3cmd-$mode-$RUN_ID"
        check "s3cmd $mode mb" s3 mb "s3://$B"
        for f in "${FILES[@]}"; do
            check "s3cmd $mode put $f" s3 put "$WORK/src/$f" "s3://$B/$f"
            check "s3cmd $mode get $f" s3 get --force "s3://$B/$f" "$WORK/down/s3cmd-$mode-$f"
            check "s3cmd $mode sha256 $f" same_sha "$WORK/src/$f" "$WORK/down/s3cmd-$mode-$f"
        done
        check "s3cmd $mode ls lists 4 objects" bash -c "[[ \$(s3cmd -c '$WORK/s3cfg' ${extra[*]} ls 's3://$B/' | wc -l) -eq 4 ]]"
        for f in "${FILES[@]}"; do
            check "s3cmd $mode del $f" s3 del "s3://$B/$f"
        done
        check "s3cmd $mode rb" s3 rb "s3://$B"
    done
else
    fail "s3cmd is not installed"
fi

# ---- rclone ------------------------------------------------------------------
if command -v rclone >/dev/null; then
    export RCLONE_CONFIG=/dev/null
    export RCLONE_CONFIG_COFFER_TYPE=s3
    export RCLONE_CONFIG_COFFER_PROVIDER=Other
    export RCLONE_CONFIG_COFFER_ENDPOINT=$ENDPOINT
    export RCLONE_CONFIG_COFFER_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
    export RCLONE_CONFIG_COFFER_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
    export RCLONE_CONFIG_COFFER_REGION=us-east-1
    export RCLONE_CONFIG_COFFER_FORCE_PATH_STYLE=true
    B="cli-rclone-$RUN_ID"
    check "rclone mkdir" rclone mkdir "coffer:$B"
    check "rclone copy up" rclone copy "$WORK/src" "coffer:$B/dir"
    check "rclone lsf lists 4 objects" bash -c "[[ \$(rclone lsf 'coffer:$B/dir' | wc -l) -eq 4 ]]"
    check "rclone check (by hash)" rclone check "$WORK/src" "coffer:$B/dir"
    mkdir -p "$WORK/down/rclone"
    check "rclone copy down" rclone copy "coffer:$B/dir" "$WORK/down/rclone"
    for f in "${FILES[@]}"; do
        check "rclone sha256 $f" same_sha "$WORK/src/$f" "$WORK/down/rclone/$f"
    done
    check "rclone purge" rclone purge "coffer:$B"
else
    fail "rclone is not installed"
fi

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
