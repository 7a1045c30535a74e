#!/bin/sh
# gate.sh: ask a Trailbook gate from a GitHub Actions step and tell the
# workflow what to do. POSIX sh. The job summary shows the evidence as
# tables when jq is installed (it is on GitHub's hosted runners), and the
# decision JSON as trailbook wrote it when not; the decision itself never
# depends on jq.
#
# Usage: gate.sh NAME [FLAG]...
#
#   NAME    the gate, e.g. deploy-prod
#   FLAG    passed on to `trailbook gate check NAME --format json`, e.g.
#           --param account=111122223333 or --no-cache (not --format)
#
# What each answer of trailbook becomes:
#
#   trailbook   decision   this script   the workflow
#   0           proceed    exit 0        runs the gated steps
#   3           skip       exit 0        leaves them out (they test the decision output); a notice
#   1           halt       exit 1        the job fails
#   2 or other  error      exit 2        the job fails: the gate could not be decided and is
#                                        fail-closed, or trailbook could not run
#
# Step outputs ($GITHUB_OUTPUT), for `if: steps.gate.outputs.decision == 'proceed'`:
#   decision    proceed, skip, halt or error
#   exit-code   trailbook's exit status
#   json        the file holding the decision JSON; empty when trailbook gave none
#
# The job summary ($GITHUB_STEP_SUMMARY; stdout when unset, as on a laptop)
# shows the decision, its reason, every check, and the evidence rows of the
# checks that did not proceed. In GitHub Actions an annotation says the
# decision too: an error for halt and error, a notice for skip, a warning
# when a fail-open gate proceeds on an error.
#
# Environment:
#   TRAILBOOK           the trailbook binary (default: trailbook on PATH)
#   TRAILBOOK_DB        the store; read by trailbook itself (default ./trailbook.duckdb)
#   TRAILBOOK_RUNBOOKS  the folder holding the gate definitions, passed as
#                       --dir (default: trailbook's own, ./runbooks)
#   GATE_JSON           where to keep the decision JSON (default
#                       $RUNNER_TEMP/trailbook-gate-NAME.json, else in $TMPDIR or /tmp)
#   GATE_JQ             the jq to render the summary with (default jq); set it
#                       empty to do without

if [ $# -lt 1 ]; then
	echo "usage: gate.sh NAME [FLAG]..." >&2
	exit 2
fi
name=$1
shift
if [ -n "${TRAILBOOK_RUNBOOKS:-}" ]; then
	set -- "$@" --dir "$TRAILBOOK_RUNBOOKS"
fi
json=${GATE_JSON:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/trailbook-gate-$name.json}
errs=$json.stderr
jq=${GATE_JQ-jq}
if [ -n "$jq" ] && ! command -v "$jq" >/dev/null 2>&1; then
	jq=
fi

# output writes the step outputs, when the step has them.
output() {
	if [ -n "${GITHUB_OUTPUT:-}" ]; then
		printf 'decision=%s\nexit-code=%s\njson=%s\n' "$decision" "$code" "$json" >>"$GITHUB_OUTPUT"
	fi
}

if ! : >"$json" || ! : >"$errs"; then
	echo "gate.sh: cannot write $json; set GATE_JSON to a writable file" >&2
	decision=error code='' json=''
	output
	exit 2
fi
"${TRAILBOOK:-trailbook}" gate check "$name" --format json "$@" >"$json" 2>"$errs"
code=$?
cat "$errs" >&2

case $code in
0) decision=proceed status=0 what="the gated steps run" ;;
3) decision=skip status=0 what="the gated steps are left out" ;;
1) decision=halt status=1 what="the job fails" ;;
*) decision=error status=2 what="the gate could not be decided; the job fails" ;;
esac
# No JSON: trailbook stopped before it knew the gate (no such gate, a
# broken definition in the folder, bad usage) or did not run.
if [ ! -s "$json" ]; then
	rm -f "$json"
	json=
fi
output

reason=
if [ -n "$json" ] && [ -n "$jq" ]; then
	reason=$("$jq" -r '.reason' "$json")
fi

# Markdown of the decision JSON: reason, error, the state that decided,
# the window, a table of the checks, then the evidence of each check that
# did not proceed. Cells are escaped: evidence is whatever the events hold.
# shellcheck disable=SC2016 # $cols and $r are jq variables
summary_jq='
def esc: gsub("&"; "&amp;") | gsub("<"; "&lt;") | gsub(">"; "&gt;")
	| gsub("\\|"; "\\|") | gsub("\\["; "\\[") | gsub("\\]"; "\\]") | gsub("\r?\n"; "<br>");
def cell: if . == null then "" elif type == "string" then . else tojson end | esc;
"**Reason:** " + (.reason | esc),
(if .error then "", "**Error:** " + (.error | esc) else empty end),
(if .state then "", "**Decided by:** "
	+ (if .state.override then "an override by " + (.state.set_by | esc) else "runbook " + ((.state.runbook // .state.set_by) | esc) end)
	+ " at " + .state.set_at
	+ (if .state.until then ", until " + .state.until else "" end) + ": " + (.state.reason | esc) else empty end),
(if (.window_start | startswith("0001-")) then empty
	else "", "Events from " + .window_start + " to " + .now + (if .cached then " (checks cached from " + .checked_at + ")" else "" end) end),
(if (.checks // []) == [] then empty else
	"", "| check | decision | rows | reason |", "|---|---|---|---|",
	(.checks[] | "| " + (.name | esc) + " | " + .decision + " | " + (.row_count | tostring) + " | "
		+ ((if .error then "error: " + .error else .reason // "" end) | esc) + " |") end),
((.checks // [])[] | select(.decision != "proceed" and ((.rows // []) | length) > 0)
	| (.rows[0] | keys) as $cols
	| "", "Evidence of **" + (.name | esc) + "** (" + (.rows | length | tostring) + " of " + (.row_count | tostring) + " rows):", "",
	"| " + ($cols | map(esc) | join(" | ")) + " |",
	"|" + ($cols | map("---") | join("|")) + "|",
	(.rows[] | . as $r | "| " + ($cols | map($r[.] | cell) | join(" | ")) + " |"))
'

summary() {
	echo "## Gate \`$name\`: $(echo "$decision" | tr '[:lower:]' '[:upper:]')"
	echo
	echo "trailbook exited $code: $what."
	if [ -n "$json" ] && [ -n "$jq" ]; then
		echo
		"$jq" -r "$summary_jq" "$json"
	elif [ -n "$json" ]; then
		echo
		echo "The decision as trailbook gave it (install jq on the runner to see it as tables):"
		echo
		echo '```json'
		cat "$json"
		echo '```'
	fi
	# Without JSON, trailbook's stderr is all there is to say why; with
	# it, the JSON's error says the same.
	if [ -z "$json" ] && [ -s "$errs" ]; then
		echo
		echo "trailbook said:"
		echo
		echo '```'
		cat "$errs"
		echo '```'
	fi
}
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
	summary >>"$GITHUB_STEP_SUMMARY"
else
	summary
fi

# annotate LEVEL MESSAGE writes a workflow command, escaped as GitHub
# wants: % first, then line breaks.
annotate() {
	msg=$(printf '%s' "$2" | tr -d '\r' | sed 's/%/%25/g' | awk 'NR > 1 { printf "%%0A" } { printf "%s", $0 }')
	echo "::$1 title=gate $name::$msg"
}
if [ "${GITHUB_ACTIONS:-}" = true ]; then
	msg=${reason:-$(cat "$errs")}
	msg="$decision: ${msg:-see the job summary}"
	case $decision in
	halt | error) annotate error "$msg" ;;
	skip) annotate notice "$msg" ;;
	proceed) if [ -s "$errs" ]; then annotate warning "$(cat "$errs")"; fi ;;
	esac
fi
rm -f "$errs"

echo "gate $name: $decision (exit $status)" >&2
exit "$status"
