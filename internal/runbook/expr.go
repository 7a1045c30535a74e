package runbook

import (
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"github.com/trailbook/trailbook/internal/yamlpos"
	"gopkg.in/yaml.v3"
)

// Limits of CEL expressions.
const (
	// MaxExprBytes bounds the text of one expression.
	MaxExprBytes = 16 << 10
	// CostLimit bounds the work of one evaluation, in CEL's cost units
	// (about one per operation and list element visited): an expression
	// that exceeds it fails at run time instead of running on.
	CostLimit = 1_000_000
)

// NewEnv is the CEL environment runbook expressions are compiled in, for
// programs made after Load (the engine's own, a console's) to see the same
// variables:
//
//   - event: dyn, the CloudTrail record as JSON decodes it (objects are
//     maps, numbers doubles);
//   - params: map(string, dyn), the runbook's params;
//   - rows: list(dyn), the query's rows, each a map by column name;
//   - now: timestamp, the evaluation's clock;
//   - runbook: map(string, string), the runbook's name, owner, severity
//     and mode (see Runbook.Vars);
//   - violations: list(dyn), how the resources the event touched fail the
//     runbook's schema, each a map (see docs/runbooks.md); only in
//     runbooks with a schema.
//
// Besides CEL's standard functions, it has optional types (event.?a.b)
// and numeric comparisons across int, uint and double (JSON numbers are
// doubles). Timestamps without a
// zone are UTC. Building one takes about a millisecond; the result is
// safe to share.
func NewEnv() (*cel.Env, error) {
	env, err := cel.NewEnv(
		cel.Variable("event", cel.DynType),
		cel.Variable("params", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("rows", cel.ListType(cel.DynType)),
		cel.Variable("now", cel.TimestampType),
		cel.Variable("runbook", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("violations", cel.ListType(cel.DynType)),
		cel.OptionalTypes(),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		cel.ParserExpressionSizeLimit(MaxExprBytes),
	)
	if err != nil {
		return nil, fmt.Errorf("cel environment: %w", err)
	}
	return env, nil
}

// ProgramOptions are the options every runbook program is made with; a
// program made after Load with the same options behaves the same.
func ProgramOptions() []cel.ProgramOption {
	return []cel.ProgramOption{cel.CostLimit(CostLimit)}
}

// Vars is the runbook variable of CEL expressions and of templates: the
// runbook's name, owner, severity and mode. Load checks that expressions
// and templates read no other key.
func (r *Runbook) Vars() map[string]string {
	return map[string]string{"name": r.Name, "owner": r.Owner, "severity": r.Severity, "mode": r.Mode}
}

// runbookVarKeys are the keys of Vars.
func runbookVarKeys() []string { return []string{"mode", "name", "owner", "severity"} }

// result is what an expression must give.
type result int

const (
	anyResult    result = iota
	boolResult          // condition, when
	stringResult        // dedup
	arnsResult          // arns: a string or a list of strings
)

// scope is what an expression may refer to.
type scope struct {
	params []string // the params defined so far, in order
	// inParams is set for a param's own expression.
	inParams bool
	// beforeQuery, when set, says why rows (and violations) are not
	// known: the expression is evaluated before the query runs.
	beforeQuery string
	// noSchema is set in a runbook without a schema: violations is
	// always empty there, so using it is a mistake.
	noSchema bool
	// gate is set in a gate's check, which has rows, params and now, but
	// no event, runbook or violations.
	gate bool
}

// expr compiles the CEL expression n, reporting its problems at their
// place in the file. what names it in messages.
func (d *decoder) expr(n *yaml.Node, what string, want result, sc scope) *Expr {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		d.errorf(n, CodeWrongType, "%s must be a CEL expression (a string), not %s; quote an expression that starts with [ or {", what, yamlpos.KindOf(n))
		return nil
	}
	src, ok := d.str(n, what)
	switch {
	case !ok:
		return nil
	case strings.TrimSpace(src) == "":
		d.errorf(n, CodeBadCEL, "%s is empty", what)
		return nil
	case len(src) > MaxExprBytes:
		d.errorf(n, CodeTooLarge, "%s has %d bytes; the limit is %d", what, len(src), MaxExprBytes)
		return nil
	}
	ast, iss := d.l.env.Compile(src)
	if iss.Err() != nil {
		for _, e := range iss.Errors() {
			off := 0
			if loc := e.Location; loc != nil && loc.Line() > 0 {
				off = lineOffset(src, loc.Line(), max(loc.Column(), 0))
			}
			d.errorIn(n, off, CodeBadCEL, "%s: %s", what, e.Message)
		}
		return nil
	}
	if t := ast.OutputType(); !fits(t, want) {
		d.errorf(n, CodeBadCEL, "%s must give %s, not %s", what, want, t)
		return nil
	}
	if !d.checkRefs(n, what, ast.NativeRep(), sc) {
		return nil
	}
	prg, err := d.l.env.Program(ast, ProgramOptions()...)
	if err != nil {
		d.errorf(n, CodeBadCEL, "%s: %v", what, err)
		return nil
	}
	line, col := d.valuePos(n, 0)
	return &Expr{Source: src, Pos: Pos{File: d.file, Line: line, Col: col}, Program: prg}
}

func (w result) String() string {
	switch w {
	case boolResult:
		return "a bool"
	case stringResult:
		return "a string"
	case arnsResult:
		return "a string or a list of strings"
	}
	return "a value"
}

// fits reports whether an expression of type t may give what want asks
// for. dyn fits anything: it is checked when evaluated.
func fits(t *cel.Type, want result) bool {
	if t == nil || t.Kind() == types.DynKind || t.Kind() == types.AnyKind {
		return true
	}
	switch want {
	case boolResult:
		return t.Kind() == types.BoolKind
	case stringResult:
		return t.Kind() == types.StringKind
	case arnsResult:
		if t.Kind() == types.ListKind && len(t.Parameters()) == 1 {
			return fits(t.Parameters()[0], stringResult)
		}
		return t.Kind() == types.StringKind
	}
	return true
}

// checkRefs reports references the type checker cannot see as wrong:
// params that are not defined (or, in a param, not yet), runbook keys
// that do not exist, and rows before the query has run. It reports
// whether there was none.
func (d *decoder) checkRefs(n *yaml.Node, what string, a *celast.AST, sc scope) bool {
	ok := true
	info := a.SourceInfo()
	report := func(e celast.Expr, format string, args ...any) {
		ok = false
		off := 0
		if loc := info.GetStartLocation(e.ID()); loc.Line() > 0 {
			off = lineOffset(n.Value, loc.Line(), max(loc.Column(), 0))
		}
		d.errorIn(n, off, CodeBadCEL, "%s: %s", what, fmt.Sprintf(format, args...))
	}
	// key checks a constant key of params or runbook.
	key := func(e celast.Expr, v, k string) {
		switch v {
		case "params":
			if slices.Contains(sc.params, k) {
				return
			}
			if sc.inParams {
				report(e, "params.%s is not defined by a param before this one", k)
			} else {
				report(e, "there is no param %s", k)
			}
		case "runbook":
			if !slices.Contains(runbookVarKeys(), k) {
				report(e, "runbook has no key %s; want %s", k, oneOf(runbookVarKeys()))
			}
		}
	}
	var walk func(e celast.Expr, shadow map[string]bool)
	walk = func(e celast.Expr, shadow map[string]bool) {
		global := func(x celast.Expr) string { // the name of a variable not shadowed
			if x.Kind() == celast.IdentKind && !shadow[x.AsIdent()] {
				return x.AsIdent()
			}
			return ""
		}
		switch e.Kind() {
		case celast.IdentKind:
			switch g := global(e); {
			case sc.gate && (g == "event" || g == "runbook" || g == "violations"):
				report(e, "a gate's check has no %s; it sees rows, params and now", g)
			case sc.beforeQuery != "" && (g == "rows" || g == "violations"):
				report(e, "%s is not known: %s", g, sc.beforeQuery)
			case sc.noSchema && g == "violations":
				report(e, "violations needs a schema; give the runbook one (schema: FILE)")
			}
		case celast.SelectKind:
			s := e.AsSelect()
			if v := global(s.Operand()); v != "" && !s.IsTestOnly() {
				key(s.Operand(), v, s.FieldName())
			}
			walk(s.Operand(), shadow)
		case celast.CallKind:
			c := e.AsCall()
			if args := c.Args(); c.FunctionName() == "_[_]" && len(args) == 2 && args[1].Kind() == celast.LiteralKind {
				if k, isStr := args[1].AsLiteral().Value().(string); isStr {
					if v := global(args[0]); v != "" {
						key(args[0], v, k)
					}
				}
			}
			if c.IsMemberFunction() {
				walk(c.Target(), shadow)
			}
			for _, x := range c.Args() {
				walk(x, shadow)
			}
		case celast.ListKind:
			for _, x := range e.AsList().Elements() {
				walk(x, shadow)
			}
		case celast.MapKind:
			for _, en := range e.AsMap().Entries() {
				walk(en.AsMapEntry().Key(), shadow)
				walk(en.AsMapEntry().Value(), shadow)
			}
		case celast.StructKind:
			for _, f := range e.AsStruct().Fields() {
				walk(f.AsStructField().Value(), shadow)
			}
		case celast.ComprehensionKind:
			c := e.AsComprehension()
			walk(c.IterRange(), shadow)
			walk(c.AccuInit(), shadow)
			inner := map[string]bool{c.IterVar(): true, c.AccuVar(): true}
			if c.HasIterVar2() {
				inner[c.IterVar2()] = true
			}
			for k := range shadow {
				inner[k] = true
			}
			walk(c.LoopCondition(), inner)
			walk(c.LoopStep(), inner)
			walk(c.Result(), inner)
		}
	}
	walk(a.Expr(), map[string]bool{})
	return ok
}
