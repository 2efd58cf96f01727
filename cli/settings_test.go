package cli

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/drainit/drainit/hooks"
)

// Every variable drainit reads is in --help and in the README, each with
// the default it has in the code: the struct tags are the one source, and
// the texts are held to them.
func TestEverySettingIsDocumentedWithItsDefault(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	settings := hooks.Settings()
	vt := reflect.TypeOf(variables{})
	for i := range vt.NumField() {
		settings = append(settings, hooks.Setting{Name: vt.Field(i).Tag.Get("env"), Default: vt.Field(i).Tag.Get("envDefault")})
	}
	for _, s := range settings {
		for _, doc := range []struct{ name, text string }{{"--help", drainitHelp}, {"README.md", string(readme)}} {
			lines := linesNaming(doc.text, s.Name)
			if len(lines) == 0 {
				t.Errorf("%s does not name %s", doc.name, s.Name)
				continue
			}
			if s.Default != "" && !strings.Contains(strings.Join(lines, " "), s.Default) {
				t.Errorf("%s names %s without its default %q:\n%s", doc.name, s.Name, s.Default, strings.Join(lines, "\n"))
			}
		}
	}
}

// linesNaming returns the lines that name the variable (a whole word), each
// with the line after it (help texts wrap).
func linesNaming(text, name string) []string {
	all := strings.Split(text, "\n")
	var out []string
	for i, line := range all {
		if namesWord(line, name) {
			out = append(out, line)
			if i+1 < len(all) {
				out = append(out, all[i+1])
			}
		}
	}
	return out
}

func namesWord(line, name string) bool {
	for rest := line; ; {
		i := strings.Index(rest, name)
		if i < 0 {
			return false
		}
		end := i + len(name)
		if end == len(rest) || !isNameChar(rest[end]) {
			if i == 0 || !isNameChar(rest[i-1]) {
				return true
			}
		}
		rest = rest[end:]
	}
}

func isNameChar(c byte) bool { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') }
