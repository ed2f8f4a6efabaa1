"""Data at rest: default encryption and Block Public Access on every bucket, encryption of both queues,
the state table and the Glue job's output (its security configuration), an alerts topic whose key still
lets alarms publish, and no secrets in function environments under the default key. From plan Phase 2
items 8-12 (security) and common practice.
"""

from __future__ import annotations

from sim.check.rules.base import DEPLOY_FIX, NA, Gap, Snapshot, _Findings, check

SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
SECRET_WORDS = ("SECRET", "PASSWORD", "PASSWD", "TOKEN", "PRIVATE", "CREDENTIAL", "API_KEY", "APIKEY")


@check("s3-encryption", "Every bucket has default encryption",
       "plan Phase 2 (security items 8-12); common practice (S3 default encryption, SSE-S3 or SSE-KMS)")
def s3_encryption(snap: Snapshot):
    f = _Findings()
    done = []
    for name, info in snap.buckets.items():
        if f.value(info.get("exists", True)) is None:
            continue
        config = f.value(info.get("encryption"), f"put default encryption on {name}; {DEPLOY_FIX}")
        if isinstance(info.get("encryption"), Gap):
            continue
        rules = (config or {}).get("Rules") or []
        algorithms = [(r.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm") for r in rules]
        good = [a for a in algorithms if a in SSE_ALGORITHMS]
        if not good:
            f.problem(f"{name} has no default encryption", f"put_bucket_encryption on {name} (AES256); {DEPLOY_FIX}")
        else:
            done.append(f"{name} {good[0]}")
    if not snap.emulator:
        f.note("S3 encrypts every new object with SSE-S3 since January 2023 even without a rule; the rule makes it explicit")
    return f.result(", ".join(done))


@check("s3-public-access", "Every bucket blocks public access",
       "plan Phase 2 (security); common practice (S3 Block Public Access, all four settings)")
def s3_public_access(snap: Snapshot):
    f = _Findings()
    flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    account = snap.account_public_access_block
    account_blocks = isinstance(account, dict) and all(account.get(k) for k in flags)
    done = []
    for name, info in snap.buckets.items():
        if f.value(info.get("exists", True)) is None:
            continue
        block = info.get("public_access_block")
        if isinstance(block, Gap):
            f.value(block)
            continue
        f.checked = True
        off = [k for k in flags if not (block or {}).get(k)]
        if not off:
            done.append(name)
        elif account_blocks:
            done.append(f"{name} (by the account-level block)")
        else:
            f.problem(f"{name} does not block public access ({', '.join(off)} off)" if block else
                      f"{name} has no public access block", f"put_public_access_block on {name} (all four true); "
                      + DEPLOY_FIX)
    return f.result("all four settings on " + ", ".join(done))


@check("sqs-encryption", "Both queues are encrypted at rest", "plan Phase 2 (security); common practice (SSE-SQS or SSE-KMS)")
def sqs_encryption(snap: Snapshot):
    f, n = _Findings(), snap.names
    done = []
    for name in (n.queue, n.dlq):
        attrs = f.value(snap.queues.get(name, Gap("missing", f"queue {name}")))
        if attrs is None:
            continue
        if attrs.get("KmsMasterKeyId"):
            done.append(f"{name} SSE-KMS ({attrs['KmsMasterKeyId']})")
        elif str(attrs.get("SqsManagedSseEnabled", "")).lower() == "true":
            done.append(f"{name} SSE-SQS")
        else:
            f.problem(f"{name} is not encrypted at rest",
                      f"set SqsManagedSseEnabled=true on {name} (SSE-SQS: S3 can still send to it; the AWS-managed "
                      f"aws/sqs key would stop S3 notifications); {DEPLOY_FIX}")
    return f.result(", ".join(done))


@check("dynamodb-encryption", "The state table is encrypted at rest", "plan Phase 2 (security); common practice")
def dynamodb_encryption(snap: Snapshot):
    f, n = _Findings(), snap.names
    table = f.value(snap.table)
    if table is None:
        return f.result("")
    sse = table.get("SSEDescription")
    if not sse:
        return f.result(f"{n.table} shows no SSEDescription: DynamoDB encrypts every table at rest, and this form "
                        "means an AWS-owned key (free, invisible to the account; the deploy asks for the "
                        "AWS-managed key aws/dynamodb, which shows here and in CloudTrail)")
    status = sse.get("Status")
    if status in ("ENABLED", "ENABLING", "UPDATING"):
        return f.result(f"{n.table} {sse.get('SSEType', 'KMS')} {status}"
                        + (f" with {sse['KMSMasterKeyArn']}" if sse.get("KMSMasterKeyArn") else ""))
    f.problem(f"{n.table} encryption is {status}" + (" (the customer key is unusable: the table becomes "
              "inaccessible)" if status == "INACCESSIBLE_ENCRYPTION_CREDENTIALS" else ""),
              f"restore the key or update_table SSESpecification Enabled=true; {DEPLOY_FIX}")
    return f.result("")


@check("glue-security-configuration", "The Glue job names a security configuration that exists and encrypts S3",
       "plan Phase 2 items 8-12 ('Glue security configuration')")
def glue_security_configuration(snap: Snapshot):
    f, n = _Findings(), snap.names
    if not snap.glue_mode:
        return NA, f"no Glue job on {snap.target}: the converter runs as a Lambda task there", ""
    job = f.value(snap.glue_job if snap.glue_job is not None else Gap("missing", f"Glue job {n.glue_job}"))
    if job is None:
        return f.result("")
    name = job.get("SecurityConfiguration")
    fix = f"create security configuration {n.glue_security_configuration} (S3 SSE-S3) and name it in the job; {DEPLOY_FIX}"
    if not name:
        f.problem(f"job {n.glue_job} names no security configuration: what it writes is encrypted only by the "
                  "bucket default", fix)
        return f.result("")
    config = f.value(snap.glue_security if snap.glue_security is not None else
                     Gap("missing", f"security configuration {name}"), fix)
    if config is None:
        return f.result("")
    enc = config.get("EncryptionConfiguration") or {}
    modes = [e.get("S3EncryptionMode") for e in enc.get("S3Encryption") or []]
    if not any(m and m != "DISABLED" for m in modes):
        f.problem(f"security configuration {name} does not encrypt S3 (modes {modes or 'none'})", fix)
    cw = (enc.get("CloudWatchEncryption") or {}).get("CloudWatchEncryptionMode", "DISABLED")
    bm = (enc.get("JobBookmarksEncryption") or {}).get("JobBookmarksEncryptionMode", "DISABLED")
    f.note(f"CloudWatch logs {cw}, job bookmarks {bm} (both need a customer KMS key; the job logs counts and keys "
           "only and uses no bookmarks)")
    return f.result(f"job {n.glue_job} uses {name}: S3 {', '.join(m for m in modes if m)}")


def _aws_managed_sns_key(key: str) -> bool:
    return key.endswith("alias/aws/sns")


@check("sns-encryption", "The alerts topic's encryption does not stop alarms from publishing",
       "plan Phase 2 (security); CloudWatch docs: alarms cannot publish to a topic encrypted with the AWS-managed "
       "key aws/sns")
def sns_encryption(snap: Snapshot):
    f, n = _Findings(), snap.names
    topic = f.value(snap.topic)
    if topic is None:
        return f.result("")
    key = topic.get("KmsMasterKeyId")
    if not key:
        return NA, (f"{n.topic} is not encrypted, on purpose: CloudWatch alarms cannot publish to a topic "
                    "encrypted with the AWS-managed key aws/sns (that needs a customer key and a key policy for "
                    "cloudwatch.amazonaws.com), and alert messages carry ids and counts, no record content"), ""
    if _aws_managed_sns_key(key):
        f.problem(f"{n.topic} is encrypted with the AWS-managed key aws/sns: CloudWatch alarms cannot publish to it, "
                  "so every alarm is silent", f"use a customer key whose policy allows cloudwatch.amazonaws.com "
                  f"kms:GenerateDataKey* and kms:Decrypt, or remove KmsMasterKeyId from {n.topic}")
        return f.result("")
    f.note("the key policy must let cloudwatch.amazonaws.com (alarms) and the state machine's role "
           "use it (kms:GenerateDataKey*, kms:Decrypt)")
    return f.result(f"{n.topic} encrypted with customer key {key}")


@check("lambda-env-encryption", "Function environments hold no secrets (KMS for environment variables)",
       "plan Phase 2 items 8-12 ('KMS encryption for Lambda env vars', deferred to Phase 3)")
def lambda_env_encryption(snap: Snapshot):
    f = _Findings()
    done = []
    for name in snap.expected_functions():
        config = f.value(snap.functions.get(name, Gap("missing", f"function {name}")))
        if config is None:
            continue
        key = config.get("KMSKeyArn")
        env = (config.get("Environment") or {}).get("Variables") or {}
        secret = [k for k in env if any(word in k.upper() for word in SECRET_WORDS)]
        if secret and not key:
            f.problem(f"{name} keeps {', '.join(secret)} in its environment under the default key",
                      "move secrets to Secrets Manager or SSM Parameter Store (SecureString), or set a customer "
                      "KMSKeyArn on the function")
        done.append(f"{name} {'customer key ' + key if key else 'AWS-managed key'}")
    return f.result(", ".join(done) + ": Lambda encrypts environment variables at rest with the AWS-managed key "
                    "aws/lambda; these hold names, ARNs and settings, no secrets, so a customer key would only add "
                    "key control")
