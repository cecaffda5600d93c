package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// LookupFunc looks up an environment variable, like os.LookupEnv.
type LookupFunc func(name string) (string, bool)

// ErrHelp is returned by Load when the arguments ask for help; print
// Usage and exit 0.
var ErrHelp = flag.ErrHelp

// flagVars maps each flag to the variable it overrides. --env-file is
// handled apart: it chooses where the variables come from.
func flagVars() map[string]string {
	m := map[string]string{}
	for _, v := range Vars() {
		if v.Flag != "" {
			m[v.Flag] = v.Name
		}
	}
	return m
}

// newFlagSet declares the flags of `pingapi serve` into vals (flag → value
// as given; only flags actually set end up in set).
func newFlagSet(vals map[string]*string) *flag.FlagSet {
	fs := flag.NewFlagSet("pingapi serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	vals["env-file"] = fs.String("env-file", DefaultEnvFile, "`FILE` of NAME=value lines read before the defaults; a missing default .env is fine")
	for _, v := range Vars() {
		if v.Flag == "" {
			continue
		}
		usage := fmt.Sprintf("overrides %s: %s", v.Name, v.Meaning)
		vals[v.Flag] = fs.String(v.Flag, "", usage)
	}
	return fs
}

// Usage writes the flags of `pingapi serve` to w.
func Usage(w io.Writer) {
	fs := newFlagSet(map[string]*string{})
	fs.SetOutput(w)
	fmt.Fprintln(w, "usage: pingapi serve [flags]\n\nEvery flag overrides its environment variable, which overrides the .env file.\nThe variables are listed in docs/CONFIG.md.\n\nflags:")
	fs.PrintDefaults()
}

// Load builds the configuration of `pingapi serve` from args (the
// arguments after "serve"), the environment seen through lookup (nil: an
// empty environment) and the .env file (--env-file, default ".env" in the
// working directory; a missing default file is fine, a missing explicit
// one is an error). It returns every problem it finds, joined, each naming
// the variable, the value and where the value came from. It is safe to
// call concurrently; it reads only the env file.
func Load(args []string, lookup LookupFunc) (Config, error) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	vals := map[string]*string{}
	fs := newFlagSet(vals)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, ErrHelp
		}
		return Config{}, fmt.Errorf("serve: %w", err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	envFile := *vals["env-file"]
	file, err := readEnvFile(envFile, !set["env-file"])
	if err != nil {
		return Config{}, err
	}
	src := &sources{lookup: lookup, file: file, fileName: envFile, flags: map[string]string{}, flagName: map[string]string{}}
	if file != nil {
		src.used = envFile
	}
	byFlag := flagVars()
	for name := range set {
		if v, ok := byFlag[name]; ok {
			src.flags[v] = *vals[name]
			src.flagName[v] = name
		}
	}
	return build(src)
}

// sources answers "what is the value of NAME and where does it come from"
// with the documented precedence.
type sources struct {
	lookup   LookupFunc
	flags    map[string]string // variable → value given by a flag
	flagName map[string]string // variable → the flag that set it
	file     map[string]string
	fileName string
	used     string          // env file actually read
	asked    map[string]bool // if not nil, records every name looked up (tests)
}

// get returns the raw value of name, whether it was set anywhere, and a
// description of its origin for error messages.
func (s *sources) get(name string) (val, from string, ok bool) {
	if s.asked != nil {
		s.asked[name] = true
	}
	if v, ok := s.flags[name]; ok {
		return v, "flag --" + s.flagName[name], true
	}
	// An empty variable counts as unset, so that `NAME=` in a compose file
	// or a unit does not hide the .env file's value.
	if v, ok := s.lookup(name); ok && strings.TrimSpace(v) != "" {
		return v, "environment", true
	}
	if v, ok := s.file[name]; ok {
		return v, s.fileName, true
	}
	return "", "", false
}

// describe formats a value and its origin for an error message.
func describe(name, val, from string) string {
	if strings.HasPrefix(from, "flag ") {
		return fmt.Sprintf("%s=%q (%s)", name, val, from)
	}
	return fmt.Sprintf("%s=%q (from %s)", name, val, from)
}
