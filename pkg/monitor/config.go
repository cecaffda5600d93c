package monitor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is a parsed Ping903 configuration file: the settings and the
// immutable ip-list, in the order its ip-list statements gave it.
type Config struct {
	Settings Settings
	IPList   []string // immutable list, duplicates removed, first occurrence kept
	// IPListAt says where each IPList entry comes from, "FILE:LINE" (the
	// configuration file, or the ip-list file named in it).
	IPListAt []string
	// ListenGiven is true when the file has a listen statement.
	ListenGiven bool
	// Ignored lists Ping903 statements that were accepted but have no
	// effect in pingapi, as "FILE:LINE: keyword", for the caller to log.
	Ignored []string
}

// ignoredStatement reports Ping903 statements that concern its own HTTP
// server, logging or process handling; pingapi replaces them (LISTEN_ADDR,
// the JWT auth, slog) and accepts them so that an existing file loads
// unchanged.
func ignoredStatement(kw string) bool {
	switch kw {
	case "pidfile", "access-log", "access-log-verbose", "syslog-facility",
		"trusted-ip", "auth", "http-backlog-size", "http-max-connections":
		return true
	}
	return false
}

// OpenFunc opens a file named by an ip-list statement.
type OpenFunc func(name string) (io.ReadCloser, error)

// LoadConfig reads the Ping903 configuration file at path. Relative ip-list
// file names are taken relative to the directory of path.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("monitor configuration: %w", err)
	}
	defer f.Close()
	dir := filepath.Dir(path)
	open := func(name string) (io.ReadCloser, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return os.Open(name)
	}
	return ParseConfig(f, path, open)
}

// ParseConfig parses a Ping903 configuration file read from r; file names
// the input in errors. Statements: ip-list FILE, ip-list <<WORD here-document
// (closed by a line holding exactly WORD; <<-WORD also strips leading tabs),
// probe-interval, ping-count, ping-interval, tolerance, data-length (numbers;
// intervals in seconds, fractions allowed) and listen. '#' starts a comment
// line. Several ip-list statements add up. An unknown or malformed statement
// is a *LineError carrying its line number. open, if nil, refuses ip-list
// files. The result has been validated (Settings.Validate).
func ParseConfig(r io.Reader, file string, open OpenFunc) (*Config, error) {
	p := configParser{
		cfg:  &Config{Settings: DefaultSettings()},
		file: file, open: open, seen: map[string]bool{},
		sc: bufio.NewScanner(r),
	}
	p.sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	if err := p.run(); err != nil {
		return nil, err
	}
	if err := p.checkTolerance(); err != nil {
		return nil, err
	}
	if err := p.cfg.Settings.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return p.cfg, nil
}

type configParser struct {
	cfg  *Config
	file string
	open OpenFunc
	seen map[string]bool
	sc   *bufio.Scanner
	line int
	at   map[string]int // line of each setting's statement
}

// checkTolerance refuses tolerance >= ping-count, naming the lines of both
// statements (or the default), since that is where the operator fixes it.
func (p *configParser) checkTolerance() error {
	st := p.cfg.Settings
	if st.Tolerance < st.PingCount {
		return nil
	}
	const why = "a host that lost every echo would count as alive; tolerance must be below ping-count"
	tl, cl := p.at["tolerance"], p.at["ping-count"]
	count := fmt.Sprintf("ping-count %d (line %d)", st.PingCount, cl)
	if cl == 0 {
		count = fmt.Sprintf("ping-count %d (the default)", st.PingCount)
	}
	if tl == 0 {
		return p.errf(cl, "tolerance %d (the default) with %s: %s (add a tolerance statement or raise ping-count)", st.Tolerance, count, why)
	}
	return p.errf(max(tl, cl), "tolerance %d (line %d) with %s: %s", st.Tolerance, tl, count, why)
}

func (p *configParser) errf(line int, format string, a ...any) error {
	return &LineError{File: p.file, Line: line, Msg: fmt.Sprintf(format, a...)}
}

func (p *configParser) run() error {
	for p.sc.Scan() {
		p.line++
		s := strings.TrimSpace(p.sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		if err := p.statement(s); err != nil {
			return err
		}
	}
	if err := p.sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", p.file, err)
	}
	return nil
}

func (p *configParser) statement(s string) error {
	kw, rest := s, ""
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		kw, rest = s[:i], strings.TrimSpace(s[i:])
	}
	if kw == "ip-list" && strings.HasPrefix(rest, "<<") {
		return p.hereDoc(strings.TrimSpace(rest[2:]))
	}
	if ignoredStatement(kw) {
		p.cfg.Ignored = append(p.cfg.Ignored, fmt.Sprintf("%s:%d: %s", p.file, p.line, kw))
		return nil
	}
	arg, err := unquote(rest)
	if err != nil {
		return p.errf(p.line, "%s: %v", kw, err)
	}
	if arg == "" {
		if isKeyword(kw) {
			return p.errf(p.line, "%s: missing argument", kw)
		}
		return p.errf(p.line, "unknown statement %q", kw)
	}
	st := &p.cfg.Settings
	if p.at == nil {
		p.at = map[string]int{}
	}
	p.at[kw] = p.line
	switch kw {
	case "ip-list":
		return p.ipListFile(arg)
	case "listen":
		st.Listen = arg
		p.cfg.ListenGiven = true
	case "probe-interval":
		return p.duration(kw, arg, &st.ProbeInterval)
	case "ping-interval":
		return p.duration(kw, arg, &st.PingInterval)
	case "ping-count":
		return p.integer(kw, arg, 1, &st.PingCount)
	case "tolerance":
		return p.integer(kw, arg, 0, &st.Tolerance)
	case "data-length":
		return p.integer(kw, arg, 0, &st.DataLength)
	default:
		return p.errf(p.line, "unknown statement %q", kw)
	}
	return nil
}

func isKeyword(kw string) bool {
	switch kw {
	case "ip-list", "listen", "probe-interval", "ping-interval", "ping-count", "tolerance", "data-length":
		return true
	}
	return false
}

// unquote accepts one bare word or one double-quoted string (with \" and \\
// escapes).
func unquote(s string) (string, error) {
	if s == "" || s[0] != '"' {
		if strings.ContainsAny(s, " \t\"") {
			return "", errors.New("expected one argument")
		}
		return s, nil
	}
	v, err := strconv.Unquote(s)
	if err != nil {
		return "", errors.New("malformed quoted string")
	}
	return v, nil
}

func (p *configParser) duration(kw, arg string, dst *time.Duration) error {
	f, err := strconv.ParseFloat(arg, 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > 86400 {
		return p.errf(p.line, "%s: expected a number of seconds between 0 and 86400, got %q", kw, arg)
	}
	*dst = time.Duration(math.Round(f * float64(time.Second)))
	return nil
}

func (p *configParser) integer(kw, arg string, lo int, dst *int) error {
	n, err := strconv.Atoi(arg)
	if err != nil || n < lo {
		return p.errf(p.line, "%s: expected an integer >= %d, got %q", kw, lo, arg)
	}
	*dst = n
	return nil
}

// hereDoc reads an inline ip-list up to the line holding exactly word.
func (p *configParser) hereDoc(word string) error {
	start := p.line
	stripTabs := strings.HasPrefix(word, "-")
	if stripTabs {
		word = strings.TrimSpace(word[1:])
	}
	if word == "" || strings.ContainsAny(word, " \t") {
		return p.errf(start, "ip-list: expected one word after <<")
	}
	for p.sc.Scan() {
		p.line++
		s := p.sc.Text()
		if stripTabs {
			s = strings.TrimLeft(s, "\t")
		}
		if strings.TrimSpace(s) == word {
			return nil
		}
		name, ok, err := parseIPListLine(s)
		if err != nil {
			return p.errf(p.line, "ip-list: %v", err)
		}
		if ok {
			p.add(name, fmt.Sprintf("%s:%d", p.file, p.line))
		}
	}
	if err := p.sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", p.file, err)
	}
	return p.errf(start, "ip-list: here-document not closed by %q", word)
}

func (p *configParser) ipListFile(name string) error {
	if p.open == nil {
		return p.errf(p.line, "ip-list: cannot read file %q here", name)
	}
	f, err := p.open(name)
	if err != nil {
		return p.errf(p.line, "ip-list: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return p.errf(p.line, "ip-list: reading %s: %v", name, err)
	}
	names, lines, err := parseIPList(bytes.NewReader(data))
	if err != nil {
		var le *LineError
		if errors.As(err, &le) {
			le.File = name
		}
		return p.errf(p.line, "ip-list: %v", err)
	}
	for i, n := range names {
		p.add(n, fmt.Sprintf("%s:%d", name, lines[i]))
	}
	return nil
}

func (p *configParser) add(name, at string) {
	if p.seen[name] {
		return
	}
	p.seen[name] = true
	p.cfg.IPList = append(p.cfg.IPList, name)
	p.cfg.IPListAt = append(p.cfg.IPListAt, at)
}
