#!/bin/sh
# gate.sh: ask a Trailbook gate from a GitLab CI job. POSIX sh; needs
# nothing but trailbook.
#
# Usage: gate.sh NAME [FLAG]...
#
#   NAME    the gate, e.g. deploy-prod
#   FLAG    passed on to `trailbook gate check`, e.g. --param account=111122223333
#
# It prints trailbook's decision (reason, checks, evidence) in the job log,
# keeps it in a report file for the job's artifacts, and writes a dotenv
# report that hands the decision to the jobs that need this one (GitLab
# reads dotenv variables in scripts only, never in rules):
#
#   GATE_DECISION=proceed|skip|halt|error
#   GATE_EXIT_CODE=trailbook's exit status
#
# Exit codes, the same as `trailbook gate check`; with the job's
# `allow_failure: exit_codes: [3]`:
#
#   0  proceed  the job passes; the deploy job deploys
#   3  skip     the job passes with a warning; the deploy job sees
#               GATE_DECISION=skip and deploys nothing
#   1  halt     the job fails; the jobs that need it do not run
#   2  error    the job fails: the gate could not be decided and is
#               fail-closed, or trailbook could not run at all. Any other
#               exit status of trailbook counts as this one.
#
# Environment:
#   TRAILBOOK           the trailbook binary (default: trailbook on PATH)
#   TRAILBOOK_DB        the store; read by trailbook itself (default ./trailbook.duckdb)
#   TRAILBOOK_RUNBOOKS  the folder holding the gate definitions, passed as
#                       --dir (default: trailbook's own, ./runbooks)
#   GATE_REPORT         where to keep the decision (default trailbook-gate.txt)
#   GATE_DOTENV         the dotenv report (default trailbook-gate.env)

if [ $# -lt 1 ]; then
	echo "usage: gate.sh NAME [FLAG]..." >&2
	exit 2
fi
name=$1
shift
if [ -n "${TRAILBOOK_RUNBOOKS:-}" ]; then
	set -- "$@" --dir "$TRAILBOOK_RUNBOOKS"
fi
report=${GATE_REPORT:-trailbook-gate.txt}
dotenv=${GATE_DOTENV:-trailbook-gate.env}

if ! : >"$report" || ! : >"$dotenv"; then
	echo "gate.sh: cannot write $report and $dotenv" >&2
	exit 2
fi
"${TRAILBOOK:-trailbook}" gate check "$name" "$@" >"$report"
code=$?
cat "$report"

note=
case $code in
0) decision=proceed status=0 ;;
3) decision=skip status=3 ;;
1) decision=halt status=1 ;;
2) decision=error status=2 note=": not decided and fail-closed, or trailbook was misused" ;;
*) decision=error status=2 note=": trailbook exited $code" ;;
esac
printf 'GATE_DECISION=%s\nGATE_EXIT_CODE=%s\n' "$decision" "$code" >"$dotenv"
echo "gate $name: $decision (exit $status)$note" >&2
exit "$status"
