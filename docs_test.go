package awsretry

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The reference pages are checked against the code: what they name exists,
// and what the code has, they name.

func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stringConstants returns the string constants declared in a Go file.
func stringConstants(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range spec.Names {
			if i >= len(spec.Values) {
				continue
			}
			var lit *ast.BasicLit
			switch v := spec.Values[i].(type) {
			case *ast.BasicLit:
				lit = v
			case *ast.CallExpr: // attribute.Key("...")
				if len(v.Args) == 1 {
					lit, _ = v.Args[0].(*ast.BasicLit)
				}
			}
			if lit != nil && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				consts[name.Name] = s
			}
		}
		return true
	})
	return consts
}

func TestTelemetryReferenceNamesEverything(t *testing.T) {
	doc := readDoc(t, "docs/telemetry.md")
	consts := stringConstants(t, "telemetry/telemetry.go")
	if len(consts) < 15 {
		t.Fatalf("found %d constants in package telemetry", len(consts))
	}
	for name, value := range consts {
		if name == "Version" {
			continue
		}
		if !strings.Contains(doc, "`"+value+"`") {
			t.Errorf("docs/telemetry.md does not mention %s (%q)", name, value)
		}
	}
	// Every awsretry.* name the page shows in code quotes is one the code
	// records.
	values := map[string]bool{}
	for _, v := range consts {
		values[v] = true
	}
	for _, m := range regexp.MustCompile("`(awsretry\\.[a-z_.]+)`").FindAllStringSubmatch(doc, -1) {
		if !values[m[1]] {
			t.Errorf("docs/telemetry.md names %s, which package telemetry does not", m[1])
		}
	}
	for _, c := range []Class{ClassThrottle, ClassTransient, ClassEventualConsistency, ClassConnection, ClassTimeout} {
		if !strings.Contains(doc, "`"+c.String()+"`") {
			t.Errorf("docs/telemetry.md does not list class %s", c)
		}
	}
	for _, r := range []Reason{ReasonExhausted, ReasonCanceled, ReasonElapsed, ReasonDeadline, ReasonBudget} {
		if !strings.Contains(doc, "`"+string(r)+"`") {
			t.Errorf("docs/telemetry.md does not list outcome %s", r)
		}
	}
}

func TestReadmeListsEveryOption(t *testing.T) {
	readme := readDoc(t, "README.md")
	f, err := parser.ParseFile(token.NewFileSet(), "options.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	options := map[string]bool{}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "With") {
			options[fn.Name.Name] = true
			if !strings.Contains(readme, "`"+fn.Name.Name) {
				t.Errorf("README's options table does not list %s", fn.Name.Name)
			}
		}
	}
	for _, m := range regexp.MustCompile("`(With[A-Za-z]+)").FindAllStringSubmatch(readme, -1) {
		if !options[m[1]] {
			t.Errorf("README names %s, which is not an option", m[1])
		}
	}
}

func TestClassificationReferenceListsTheCodes(t *testing.T) {
	doc := readDoc(t, "docs/classification.md")
	for code := range codeClasses {
		if !strings.Contains(doc, code) {
			t.Errorf("docs/classification.md does not list the default code %s", code)
		}
	}
	for _, code := range []string{"AccessDenied", "ValidationException", "NoSuchKey"} {
		if !isClientFault(code) || !strings.Contains(doc, code) {
			t.Errorf("client fault %s: known %v, in the page %v", code, isClientFault(code), strings.Contains(doc, code))
		}
	}
}

func TestDocLinksResolve(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)#]+)\)`)
	for _, page := range []string{"README.md", "docs/classification.md", "docs/telemetry.md", "docs/testing.md",
		"docs/reliability.md", "docs/performance.md", "docs/sdk.md"} {
		dir := page[:strings.LastIndex(page, "/")+1]
		for _, m := range link.FindAllStringSubmatch(readDoc(t, page), -1) {
			target := m[1]
			if strings.HasPrefix(target, "http") {
				continue
			}
			if _, err := os.Stat(dir + target); err != nil {
				t.Errorf("%s links to %s, which does not exist", page, target)
			}
		}
	}
}
