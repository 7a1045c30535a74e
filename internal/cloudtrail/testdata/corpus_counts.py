#!/usr/bin/env python3
"""Independent reference for testdata/corpus.tsv.

Counts, for every corpus file under testdata/, the records a CloudTrail
decoder should report: events, rejects and skipped records by kind. It uses
Python's json module only, so it shares no code with the Go decoder; it
re-states the classification rules of Decode's documentation. Files that are
not valid JSON (where the counts depend on error recovery) are not computed:
their rows come from HAND, worked out by reading the files.

A path with "#member" means: the file is JSON lines whose every line wraps
the record in that member; the test unwraps them before decoding.

Usage: python3 testdata/corpus_counts.py > testdata/corpus.tsv
"""
import collections
import datetime
import glob
import gzip
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})([.,]\d+)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?$")

# Files that are not valid JSON: counts worked out by hand, with the reason.
HAND = {
    "aws-docs/cloudtrail-user-guide-blocks/doc_source_cloudtrail_additional_cli_commands_md_31.json.txt":
        ("1\t0\t1\t-", "a trailing comma in an AdvancedEventSelectors list; the selector objects after it are not records"),
    "aws-docs/cloudtrail-user-guide-blocks/doc_source_cloudtrail_event_reference_md_0.json.txt":
        ("2\t1\t1\t-", "one good event, then a comma and '... additional entries ...'"),
    "aws-docs/cloudtrail-user-guide-blocks/doc_source_cloudtrail_log_file_examples_md_7.json.txt":
        ("1\t0\t1\t-", "the only Records element has a line break inside a string"),
    "aws-docs/cloudtrail-user-guide-blocks/doc_source_cloudwatch_alarms_for_cloudtrail_md_0.json.txt":
        ("1\t0\t1\t-", "a metric filter pattern, not JSON"),
    "aws-docs/cloudtrail-user-guide-blocks/doc_source_cloudwatch_alarms_for_cloudtrail_md_1.json.txt":
        ("1\t0\t1\t-", "a metric filter pattern, not JSON"),
    "aws-docs/cloudtrail-user-guide-blocks/doc_source_cloudwatch_alarms_for_cloudtrail_md_2.json.txt":
        ("1\t0\t1\t-", "a metric filter pattern, not JSON"),
    "aws-docs/cloudtrail-user-guide-blocks/doc_source_query_event_data_store_integration_md_3.json.txt":
        ("1\t0\t1\t-", "the one auditEvents element has line breaks inside its eventData string"),
    "aws-docs/cloudtrail-user-guide-blocks/doc_source_query_integration_event_schema_md_0.json.txt":
        ("1\t0\t1\t-", "a schema sketch with bare String placeholders"),
    "aws-docs/cloudtrail-user-guide-blocks/doc_source_query_lake_cli_md_11.json.txt":
        ("1\t0\t1\t-", "the one auditEvents element has line breaks inside its eventData string"),
    "aws-docs/cloudtrail-user-guide-blocks/doc_source_query_lake_cli_md_31.json.txt":
        ("1\t0\t1\t-", "the one QueryResults row has a trailing comma"),
    "aws-docs/cloudtrail-user-guide-blocks/doc_source_view_cloudtrail_events_cli_md_2.json.txt":
        ("1\t0\t1\t-", "the one LookupEvents element has line breaks inside its CloudTrailEvent string"),
    "processing-library/SerializerTestFileBadJsonFormat.json":
        ("2\t1\t1\t-", "record 1 lacks the '}' closing its userIdentity; record 2 is recovered"),
}


def time_ok(v):
    if isinstance(v, bool) or v is None:
        return False
    if isinstance(v, (int, float)):
        f = float(v)
        if abs(f) >= 1e11:
            f /= 1000
        return -62135596800 < f < 253402300800
    if not isinstance(v, str):
        return False
    if re.match(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$", v) and not (len(v) >= 5 and v[4] == "-"):
        return time_ok(float(v))
    m = TIME_RE.match(v)
    if not m:
        return False
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    if h > 23 or mi > 59 or s > 60:
        return False
    try:
        datetime.date(y, mo, d)  # also rejects year 0
    except ValueError:
        return False
    return True


def lower_keys(obj):
    out = {}
    for k, v in obj.items():
        out[k.lower()] = v  # last one wins, as in the decoder
    return out


class Counts:
    def __init__(self):
        self.events = 0
        self.rejects = 0
        self.skipped = collections.Counter()

    def records(self):
        return self.events + self.rejects + sum(self.skipped.values())


SNS_TYPES = {"Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"}
DIGEST = {"digeststarttime", "digestendtime", "digests3object", "digestpublickeyfingerprint"}


def text(v):
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"))


def stream(s, c, strict=False):
    """Decodes a string holding whitespace-separated JSON values. Invalid
    JSON raises when strict, else counts as one reject."""
    dec = json.JSONDecoder()
    i = 0
    s = s.strip(" \t\r\n")
    before = c.records()
    while i < len(s):
        try:
            v, j = dec.raw_decode(s, i)
        except json.JSONDecodeError:
            if strict:
                raise
            c.rejects += 1  # the corpus has at most one bad value per string
            return
        value(v, c)
        i = j
        while i < len(s) and s[i] in " \t\r\n":
            i += 1
    return c.records() - before


def embedded(v, c):
    if isinstance(v, str):
        if stream(v, c) == 0:
            c.rejects += 1
    else:
        value(v, c)


def value(v, c):
    if isinstance(v, list):
        for e in v:
            value(e, c)
    elif isinstance(v, str):
        embedded(v, c)
    elif isinstance(v, dict):
        obj(v, c)
    else:
        c.rejects += 1


def row(r, c):
    if not isinstance(r, list):
        value(r, c)
        return
    at = None
    for cell in r:
        if isinstance(cell, dict):
            for k, v in cell.items():
                if k.lower() == "eventjson" and isinstance(v, (str, dict)):
                    at = v
    if at is None:
        c.skipped["lake-query-row"] += 1
    else:
        embedded(at, c)


def obj(o, c):
    k = lower_keys(o)
    container = False
    for key in ("records", "events", "auditevents"):
        if isinstance(k.get(key), list):
            container = True
            for e in k[key]:
                if key == "events" and isinstance(e, dict) and not any(
                        isinstance(v, (str, dict)) for kk, v in e.items()
                        if kk.lower() in ("cloudtrailevent", "eventjson")) and not isinstance(
                        lower_keys(e).get("eventdata"), str):
                    c.rejects += 1  # a LookupEvents entry must carry CloudTrailEvent
                else:
                    value(e, c)
    for key in ("queryresultrows", "queryresults"):
        if isinstance(k.get(key), list):
            container = True
            for r in k[key]:
                row(r, c)
    if container:
        return
    emb = None
    for key in ("cloudtrailevent", "eventjson"):
        if isinstance(k.get(key), (str, dict)):
            emb = k[key]
    if isinstance(k.get("eventdata"), str):
        emb = k["eventdata"]
    if emb is not None:
        embedded(emb, c)
        return
    if "detail-type" in k and k["detail-type"] is not None:
        dt = text(k["detail-type"])
        if not dt.endswith("via CloudTrail"):
            c.skipped["eventbridge:" + dt] += 1
        elif isinstance(k.get("detail"), dict):
            obj(k["detail"], c)
        else:
            c.rejects += 1
        return
    src = k.get("eventsource")
    if k.get("type") in SNS_TYPES and ("topicarn" in k or "message" in k):
        m = k.get("message")
        if isinstance(m, str) and m.strip(" \t\r\n")[:1] in ("{", "["):
            embedded(m, c)
        else:
            c.skipped["sns-notification"] += 1
        return
    if "s3objectkey" in k:
        c.skipped["sns-notification"] += 1
    elif DIGEST & set(k):
        c.skipped["digest"] += 1
    elif (isinstance(k.get("s3"), dict) and src == "aws:s3") or (
            k.get("service") == "Amazon S3" and str(k.get("event", "")).startswith("s3:")):
        c.skipped["s3-notification"] += 1
    elif "invokingevent" in k:
        c.skipped["config-rule-invocation"] += 1
    elif "body" in k and src == "aws:sqs":
        embedded(k["body"], c)
    elif isinstance(k.get("sns"), dict) and isinstance(src, str) and src.lower() == "aws:sns":
        obj(k["sns"], c)
    else:
        event(k, c)


def event(k, c):
    name = k.get("eventname")
    if name is None and isinstance(k.get("insightdetails"), dict):
        # CloudTrail Insights records name their API inside insightDetails.
        name = lower_keys(k["insightdetails"]).get("eventname")
    t = k.get("eventtime")
    if t is None:
        t = k.get("@timestamp")
    if isinstance(name, str) and name != "" and time_ok(t):
        c.events += 1
    else:
        c.rejects += 1


def count_file(path, member=None):
    data = open(path, "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    s = data.decode("utf-8")
    c = Counts()
    if member:
        for line in s.splitlines():
            if line.strip():
                value(json.loads(line)[member], c)
        return c
    stream(s, c, strict=True)
    return c


def fmt(rel, c):
    sk = ";".join("%s=%d" % kv for kv in sorted(c.skipped.items())) or "-"
    return "%s\t%d\t%d\t%d\t%s" % (rel, c.records(), c.events, c.rejects, sk)


def main():
    rows = []
    for rel in sorted(glob.glob("**/*", root_dir=HERE, recursive=True)):
        path = os.path.join(HERE, rel)
        # Corpus files live in subdirectories; the rest is test tables.
        if not os.path.isfile(path) or "/" not in rel or rel.startswith(
                ("bad/", "licenses/", "shapes/", "fuzz/")):
            continue
        member = None
        if rel.startswith("aws-docs/") and rel.endswith(".jsonl"):
            member = "event"
        elif rel == "panther/extracted-test-events.jsonl":
            member = "log"
        try:
            c = count_file(path, member)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            counts, why = HAND[rel]  # a new invalid file needs a HAND entry
            rows.append("# by hand: %s (%s)" % (why, e))
            rows.append(rel + "\t" + counts)
            continue
        rows.append(fmt(rel + ("#" + member if member else ""), c))
    print("# Expected Decode counts for every corpus file under testdata/ (not bad/ or")
    print("# shapes/). Generated by corpus_counts.py; do not edit.")
    print("# path[#member]\trecords\tevents\trejects\tskipped")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
