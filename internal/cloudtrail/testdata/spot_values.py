#!/usr/bin/env python3
"""Independent reference for testdata/spot.tsv.

Reads chosen records straight from the raw corpus JSON with Python's json
module and writes the values the decoded Event must hold, one check a line:

    file[#member]  eventID  Go field path  want (a JSON string literal)

Conventions the Go test renders to: a missing or null value is "<null>", a
nil Map or pointer "<nil>", booleans "true"/"false", times RFC 3339 in UTC,
Map members: strings unquoted, anything else compact JSON.

Usage: python3 testdata/spot_values.py > testdata/spot.tsv
"""
import datetime
import gzip
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


class Num(str):
    """A JSON number kept as written, since compact text must not re-format it."""


def loads(s):
    return json.loads(s, parse_float=Num, parse_int=Num)


def compact(v):
    if isinstance(v, Num):
        return str(v)
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + compact(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(compact(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def records(name):
    path, _, member = name.partition("#")
    data = open(os.path.join(HERE, path), "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = data.decode("utf-8")
    if member:
        return [loads(line)[member] for line in text.splitlines() if line.strip()]
    if path.endswith(".jsonl") or path.startswith("otrf/"):
        return [loads(line) for line in text.splitlines() if line.strip()]
    v = loads(text)
    if isinstance(v, dict) and "Records" in v:
        return v["Records"]
    if isinstance(v, dict) and "detail" in v:
        return [v["detail"]]
    return v if isinstance(v, list) else [v]


def get(obj, *path):
    """Follows path through obj, matching keys case-insensitively."""
    for p in path:
        if isinstance(p, int):
            obj = obj[p] if isinstance(obj, list) and p < len(obj) else None
        elif isinstance(obj, dict):
            obj = next((v for k, v in obj.items() if k.lower() == p.lower()), None)
        else:
            obj = None
    return obj


def text(v):
    if v is None:
        return "<null>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str) and not isinstance(v, Num):
        return v
    return compact(v)


def boolean(v):
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower()
    return text(v) if isinstance(v, bool) else "<null>"


def when(v):
    t = datetime.datetime.fromisoformat(v.replace("Z", "+00:00").replace(" ", "T"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    s = t.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    return s.replace(".000000", "")


INV = "invictus/218007301253_CloudTrail_us-east-1_20230710T"
CHECKS = [
    # file, eventID, Go path, function of the record
    (INV + "1200Z_iLj9fb7yyUG9X4Bf.json.gz", "fbd91225-39aa-4c00-822c-9f0b96e7758f",
     [("UserIdentity.Type", lambda e: text(get(e, "userIdentity", "type"))),
      ("UserIdentity.SessionContext.SessionIssuer.ARN", lambda e: text(get(e, "userIdentity", "sessionContext", "sessionIssuer", "arn"))),
      ("UserIdentity.SessionContext.SessionIssuer.UserName", lambda e: text(get(e, "userIdentity", "sessionContext", "sessionIssuer", "userName"))),
      ("UserIdentity.SessionContext.CreationDate", lambda e: when(get(e, "userIdentity", "sessionContext", "attributes", "creationDate"))),
      ("UserIdentity.SessionContext.MFAAuthenticated", lambda e: text(get(e, "userIdentity", "sessionContext", "attributes", "mfaAuthenticated"))),
      ("UserIdentity.SessionContext.EC2RoleDelivery", lambda e: text(get(e, "userIdentity", "sessionContext", "ec2RoleDelivery"))),
      ("EventTime", lambda e: when(e["eventTime"]))]),
    (INV + "1235Z_YbVFCP9AYzJDhHV9.json.gz", "40d9a89e-c415-4736-b3d8-3f8d08e2f194",
     [("RequestParameters[StartTimeRange]", lambda e: text(get(e, "requestParameters", "StartTimeRange"))),
      ("len(RequestParameters)", lambda e: str(len(e["requestParameters"])))]),
    (INV + "1145Z_s7dpHbl38neqZbm2.json.gz", "21c87313-5709-46b6-9a83-c7096a761200",
     [("SessionCredentialFromConsole", lambda e: text(e["sessionCredentialFromConsole"])),
      ("UserAgent", lambda e: text(e["userAgent"]))]),
    (INV + "1200Z_iLj9fb7yyUG9X4Bf.json.gz", "928546c4-79d3-4f9e-aec5-319ef6685cde",
     [("len(Resources)", lambda e: str(len(e["resources"]))),
      ("Resources[0].ARN", lambda e: text(get(e, "resources", 0, "ARN"))),
      ("Resources[0].Type", lambda e: text(get(e, "resources", 0, "type"))),
      ("Resources[0].AccountID", lambda e: text(get(e, "resources", 0, "accountId"))),
      ("Resources[9].ARN", lambda e: text(get(e, "resources", 9, "ARN"))),
      ("ResponseElements", lambda e: "<nil>" if e.get("responseElements") is None else "<set>")]),
    (INV + "1145Z_7xgocspSowgK0Gto.json.gz", "3c856bc0-1a07-4c18-89d9-4d9205856714",
     [("VPCEndpointID", lambda e: text(e["vpcEndpointId"])),
      ("TLSDetails.TLSVersion", lambda e: text(get(e, "tlsDetails", "tlsVersion"))),
      ("TLSDetails.ClientProvidedHostHeader", lambda e: text(get(e, "tlsDetails", "clientProvidedHostHeader"))),
      ("ReadOnly", lambda e: boolean(e["readOnly"])),
      ("ManagementEvent", lambda e: boolean(e["managementEvent"])),
      ("EventCategory", lambda e: text(e["eventCategory"])),
      ("RecipientAccountID", lambda e: text(e["recipientAccountId"])),
      ("AdditionalEventData[SignatureVersion]", lambda e: text(get(e, "additionalEventData", "SignatureVersion"))),
      ("AdditionalEventData[bytesTransferredIn]", lambda e: text(get(e, "additionalEventData", "bytesTransferredIn"))),
      ("UserIdentity.AccessKeyID", lambda e: text(get(e, "userIdentity", "accessKeyId")))]),
    ("stratus/aws.execution.ec2-launch-unusual-instances.json", "1a4debbb-12e9-4bde-b8c7-ea29002bb2a7",
     [("RequestParameters[instancesSet]", lambda e: text(get(e, "requestParameters", "instancesSet"))),
      ("RequestParameters[blockDeviceMapping]", lambda e: text(get(e, "requestParameters", "blockDeviceMapping"))),
      ("RequestParameters[disableApiStop]", lambda e: text(get(e, "requestParameters", "disableApiStop"))),
      ("ErrorCode", lambda e: text(e.get("errorCode"))),
      ("AWSRegion", lambda e: text(e["awsRegion"]))]),
    ("stratus/aws.persistence.iam-backdoor-role.json", "62e290e2-ee95-4a7c-a9f8-db4ef462b12d",
     [("RequestParameters[policyDocument]", lambda e: text(get(e, "requestParameters", "policyDocument"))),
      ("SourceIPAddress", lambda e: text(e["sourceIPAddress"]))]),
    ("panther/extracted-test-events.jsonl#log", "5d4b45ed-a15c-41b6-80e9-031729fa060d",
     [("EventSource", lambda e: text(e["eventsource"])),
      ("APIVersion", lambda e: text(e["apiversion"])),
      ("ManagementEvent", lambda e: boolean(e["managementevent"])),
      ("EventCategory", lambda e: text(e["eventcategory"])),
      ("UserIdentity.ARN", lambda e: text(get(e, "useridentity", "arn"))),
      ("EventTime", lambda e: when(e["eventtime"]))]),
    ("panther/extracted-test-events.jsonl#log", "044e210e-6c5e-3f3e-8f04-2311a826f287",
     [("ReadOnly", lambda e: boolean(e["readOnly"])),
      ("ManagementEvent", lambda e: boolean(e["managementEvent"]))]),
    ("otrf/ec2_proxy_s3_exfiltration_2020-09-14011940.json", "fd4f1042-c7f6-4107-a6ee-d841d92596e7",
     [("EventTime", lambda e: when(e["@timestamp"])),
      ("RequestParameters[DescribeInstanceTypesRequest]", lambda e: text(get(e, "requestParameters", "DescribeInstanceTypesRequest"))),
      ("UserIdentity.SessionContext.WebIDFederationData", lambda e: "<set>"),
      ("UserIdentity.SessionContext.WebIDFederationData.FederatedProvider", lambda e: "<null>"),
      ("UserIdentity.SessionContext.SessionIssuer.ARN", lambda e: "<null>"),
      ("ResponseElements", lambda e: "<nil>")]),
    ("cloud-custodian/event-cloud-trail-s3.json", "80486b96-9f31-441e-b4e2-b85a4e520a07",
     [("EventName", lambda e: text(e["eventName"])),
      ("RequestParameters[bucketName]", lambda e: text(get(e, "requestParameters", "bucketName"))),
      ("UserIdentity.SessionContext.SessionIssuer.ARN", lambda e: text(get(e, "userIdentity", "sessionContext", "sessionIssuer", "arn"))),
      ("EventVersion", lambda e: text(e["eventVersion"]))]),
    ("cloud-custodian/event-cloud-trail-run-instances.json", None,
     [("UserIdentity.Type", lambda e: text(get(e, "userIdentity", "type"))),
      ("UserIdentity.InvokedBy", lambda e: text(get(e, "userIdentity", "invokedBy"))),
      ("ResponseElements[reservationId]", lambda e: text(get(e, "responseElements", "reservationId")))]),
    ("processing-library/SerializerAllFieldsNull.json", None,
     [("RequestParameters[parameters]", lambda e: text(get(e, "requestParameters", "parameters"))),
      ("ResponseElements", lambda e: "<nil>"),
      ("len(Resources)", lambda e: str(len(e["resources"]))),
      ("Resources[1].ARN", lambda e: text(get(e, "resources", 1, "ARN"))),
      ("ErrorMessage", lambda e: text(e["errorMessage"]))]),
    ("aws-docs/kms-developer-guide.jsonl#event", "5d529779-2d27-42b5-92da-91aaea1fc4b5",
     [("RequestParameters[constraints]", lambda e: text(get(e, "requestParameters", "constraints")))]),
    ("aws-docs/kms-developer-guide.jsonl#event", "4bd2a696-d833-48cc-b72c-05e61b608399",
     [("RequestParameters[encryptionContext]", lambda e: text(get(e, "requestParameters", "encryptionContext")))]),
]


def main():
    print(__doc__.split("\n\n")[2].replace("    ", "# ", 1).rstrip())
    for name, event_id, checks in CHECKS:
        recs = records(name)
        if event_id is None:  # the file's only good record
            recs = [r for r in recs if r.get("eventTime") and r.get("eventName")]
            assert len(recs) == 1, name
            rec, sel = recs[0], "-"
        else:
            found = [r for r in recs if get(r, "eventID") == event_id]
            assert len(found) == 1, (name, event_id, len(found))
            rec, sel = found[0], event_id
        for path, fn in checks:
            print("%s\t%s\t%s\t%s" % (name, sel, path, json.dumps(fn(rec), ensure_ascii=False)))


if __name__ == "__main__":
    main()
