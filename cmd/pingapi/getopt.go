package main

import (
	"fmt"
	"io"
	"strings"
)

// getopt parses a command line as GNU getopt_long does, so that the
// commands that stand in for C tools (check_ping, ping903q) accept the same
// command lines and print the same complaints: clustered short options
// ("-vv", "-w100,20%"), "--name=value" and "--name value", unambiguous
// prefixes of long names, "--" to end the options, and operands permuted
// to the end. Errors are written to stderr in glibc's words, prefixed with
// prog (argv[0]).
type getopt struct {
	prog  string
	short string    // getopt's optstring: a letter, followed by ':' when it takes an argument
	long  []longOpt // getopt_long's table
}

// longOpt is one long option. exact options (pingapi's own additions) match
// only when spelled out, so that they never make a C tool's abbreviation
// ambiguous.
type longOpt struct {
	name   string
	hasArg bool
	key    rune // the short letter it stands for, or a private key >= 0x100
	exact  bool
}

// opt is one parsed option: key is the short letter (or a long option's
// key), arg its argument.
type opt struct {
	key rune
	arg string
}

// parse returns the options in order and the operands. ok is false when
// getopt would have returned '?' (the message is already on stderr); the
// options before the bad one are returned, as a C loop would have seen
// them.
func (g getopt) parse(args []string, stderr io.Writer) (opts []opt, operands []string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return opts, append(operands, args[i+1:]...), true
		case len(a) < 2 || a[0] != '-':
			operands = append(operands, a)
		case a[1] == '-':
			o, used, good := g.parseLong(a, args[i+1:], stderr)
			if !good {
				return opts, operands, false
			}
			i += used
			opts = append(opts, o)
		default:
			for j := 1; j < len(a); j++ {
				c := rune(a[j])
				k := strings.IndexRune(g.short, c)
				if c == ':' || k < 0 {
					fmt.Fprintf(stderr, "%s: invalid option -- '%c'\n", g.prog, c)
					return opts, operands, false
				}
				if k+1 >= len(g.short) || g.short[k+1] != ':' {
					opts = append(opts, opt{key: c})
					continue
				}
				switch {
				case j+1 < len(a):
					opts = append(opts, opt{c, a[j+1:]})
				case i+1 < len(args):
					i++
					opts = append(opts, opt{c, args[i]})
				default:
					fmt.Fprintf(stderr, "%s: option requires an argument -- '%c'\n", g.prog, c)
					return opts, operands, false
				}
				break
			}
		}
	}
	return opts, operands, true
}

// parseLong parses "--name[=value]"; used is the number of following
// arguments it consumed (0 or 1).
func (g getopt) parseLong(a string, rest []string, stderr io.Writer) (o opt, used int, ok bool) {
	name, val, hasVal := strings.Cut(a[2:], "=")
	var match *longOpt
	var candidates []string
	for i := range g.long {
		l := &g.long[i]
		if l.name == name {
			match, candidates = l, nil
			break
		}
		if !l.exact && strings.HasPrefix(l.name, name) {
			candidates = append(candidates, l.name)
			if match == nil {
				match = l
			}
		}
	}
	switch {
	case match == nil:
		fmt.Fprintf(stderr, "%s: unrecognized option '%s'\n", g.prog, a)
		return opt{}, 0, false
	case len(candidates) > 1:
		fmt.Fprintf(stderr, "%s: option '%s' is ambiguous; possibilities:", g.prog, a)
		for _, c := range candidates {
			fmt.Fprintf(stderr, " '--%s'", c)
		}
		fmt.Fprintln(stderr)
		return opt{}, 0, false
	case !match.hasArg && hasVal:
		fmt.Fprintf(stderr, "%s: option '--%s' doesn't allow an argument\n", g.prog, match.name)
		return opt{}, 0, false
	case !match.hasArg:
		return opt{key: match.key}, 0, true
	case hasVal:
		return opt{match.key, val}, 0, true
	case len(rest) > 0:
		return opt{match.key, rest[0]}, 1, true
	}
	fmt.Fprintf(stderr, "%s: option '--%s' requires an argument\n", g.prog, match.name)
	return opt{}, 0, false
}
