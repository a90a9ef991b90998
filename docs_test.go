package awsretry

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
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

// TestDocLinksResolve: every relative link of the README and the pages of
// docs/ names a file that exists and, with a #fragment into a Markdown
// file, one of its headings (as GitHub makes anchors of them).
func TestDocLinksResolve(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)#\s]*)(?:#([^)\s]+))?\)`)
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range append([]string{"README.md", "CHANGELOG.md"}, pages...) {
		dir := filepath.Dir(page)
		for _, m := range link.FindAllStringSubmatch(readDoc(t, page), -1) {
			target, fragment := m[1], m[2]
			if strings.HasPrefix(target, "http") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path := page
			if target != "" {
				path = filepath.Join(dir, target)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s links to %s, which does not exist", page, target)
				continue
			}
			if fragment != "" && strings.HasSuffix(path, ".md") && !anchors(t, path)[fragment] {
				t.Errorf("%s links to %s#%s: no such heading in %s", page, target, fragment, path)
			}
		}
	}
}

// anchors returns the anchors GitHub gives the headings of a Markdown file:
// lower case, punctuation but hyphens dropped, spaces made hyphens, and a
// repeated anchor numbered (-1, -2...).
func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	seen := map[string]int{}
	inCode := false
	for _, line := range strings.Split(readDoc(t, path), "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
		}
		if inCode || !strings.HasPrefix(line, "#") {
			continue
		}
		heading := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(heading) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		anchor := b.String()
		if n := seen[anchor]; n > 0 {
			out[anchor+"-"+strconv.Itoa(n)] = true
		} else {
			out[anchor] = true
		}
		seen[anchor]++
	}
	return out
}
