package cli

import (
	"fmt"
	"strings"
)

// option is one command-line flag. Short flags cluster (-vvv, -e143) and
// long flags take --name=value or --name value, as getopt_long does.
type option struct {
	short rune
	long  string
	arg   bool
	set   func(value string) error
}

type parser struct {
	opts []option
	// permute keeps scanning for flags after the first operand, as GNU getopt
	// does for tini ("tini PROGRAM -- ARGS"); drainit and dumb-init stop there
	// so the child's own flags are never taken for ours.
	permute bool
}

// parse reads flags from args and returns the command and its arguments.
func (p parser) parse(args []string) ([]string, error) {
	var operands []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			return append(operands, args[i+1:]...), nil
		case strings.HasPrefix(arg, "--"):
			used, err := p.long(arg[2:], args[i+1:])
			if err != nil {
				return nil, err
			}
			i += used
		case strings.HasPrefix(arg, "-") && arg != "-":
			used, err := p.shorts(arg[1:], args[i+1:])
			if err != nil {
				return nil, err
			}
			i += used
		case p.permute:
			operands = append(operands, arg)
		default:
			return append(operands, args[i:]...), nil
		}
	}
	return operands, nil
}

// long handles "--name" or "--name=value"; it returns how many of the
// following arguments it consumed.
func (p parser) long(body string, next []string) (int, error) {
	name, value, hasValue := strings.Cut(body, "=")
	for _, o := range p.opts {
		if o.long != name || name == "" {
			continue
		}
		switch {
		case !o.arg && hasValue:
			return 0, fmt.Errorf("flag --%s takes no value", name)
		case !o.arg:
			return 0, o.set("")
		case hasValue:
			return 0, wrapFlag("--"+name, value, o.set(value))
		case len(next) == 0:
			return 0, fmt.Errorf("flag --%s needs a value", name)
		}
		return 1, wrapFlag("--"+name, next[0], o.set(next[0]))
	}
	return 0, fmt.Errorf("unknown flag --%s", name)
}

func (p parser) shorts(cluster string, next []string) (int, error) {
	for j, r := range cluster {
		o, ok := p.find(r)
		if !ok {
			return 0, fmt.Errorf("unknown flag -%c", r)
		}
		if !o.arg {
			if err := o.set(""); err != nil {
				return 0, err
			}
			continue
		}
		flag := "-" + string(r)
		if rest := cluster[j+len(string(r)):]; rest != "" {
			return 0, wrapFlag(flag, rest, o.set(rest))
		}
		if len(next) == 0 {
			return 0, fmt.Errorf("flag %s needs a value", flag)
		}
		return 1, wrapFlag(flag, next[0], o.set(next[0]))
	}
	return 0, nil
}

func (p parser) find(r rune) (option, bool) {
	for _, o := range p.opts {
		if o.short == r && r != 0 {
			return o, true
		}
	}
	return option{}, false
}

func wrapFlag(flag, value string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("flag %s=%q: %w", flag, value, err)
}
