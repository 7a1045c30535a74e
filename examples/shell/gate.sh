#!/bin/sh
# gate.sh: ask a Trailbook gate whether a pipeline may go on, from any CI
# system or a terminal. POSIX sh; needs nothing but trailbook.
#
# Usage: gate.sh NAME [FLAG]...
#
#   NAME    the gate, e.g. deploy-prod
#   FLAG    passed on to `trailbook gate check`, e.g. --param account=111122223333,
#           --format json or --no-cache
#
# It prints trailbook's decision (the reason, the checks and the evidence),
# then one last line, on stderr, naming the decision and this script's exit
# code. Exit codes, the same as `trailbook gate check`:
#
#   0  proceed  go on
#   3  skip     leave the gated step out; the pipeline is not failing
#   1  halt     stop: a check found a reason, or a runbook or a person closed the gate
#   2  error    stop: the gate could not be decided and is fail-closed, or
#               trailbook could not run at all (not installed, killed, bad
#               usage). Any other exit status of trailbook counts as this one.
#
# A pipeline that knows only zero and non-zero treats skip as a failure; to
# tell them apart:
#
#   sh gate.sh deploy-prod; rc=$?
#   case $rc in
#     0) ./deploy.sh ;;
#     3) echo "deploy skipped by the gate" ;;
#     *) exit "$rc" ;;
#   esac
#
# Environment:
#   TRAILBOOK           the trailbook binary (default: trailbook on PATH)
#   TRAILBOOK_DB        the store; read by trailbook itself (default ./trailbook.duckdb)
#   TRAILBOOK_RUNBOOKS  the folder holding the gate definitions, passed as
#                       --dir (default: trailbook's own, ./runbooks)

if [ $# -lt 1 ]; then
	echo "usage: gate.sh NAME [FLAG]..." >&2
	exit 2
fi
name=$1
shift
if [ -n "${TRAILBOOK_RUNBOOKS:-}" ]; then
	set -- "$@" --dir "$TRAILBOOK_RUNBOOKS"
fi

"${TRAILBOOK:-trailbook}" gate check "$name" "$@"
code=$?

note=
case $code in
0) decision=proceed status=0 ;;
3) decision=skip status=3 ;;
1) decision=halt status=1 ;;
2) decision=error status=2 note=": not decided and fail-closed, or trailbook was misused" ;;
*) decision=error status=2 note=": trailbook exited $code" ;;
esac
echo "gate $name: $decision (exit $status)$note" >&2
exit "$status"
