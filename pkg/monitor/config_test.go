package monitor

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join("testdata", "config", "full.conf"))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{ProbeInterval: 30 * time.Second, PingCount: 5, PingInterval: 2 * time.Second,
		Tolerance: 1, DataLength: 64, Listen: "0.0.0.0:8080"}
	if cfg.Settings != want {
		t.Errorf("settings = %+v, want %+v", cfg.Settings, want)
	}
	wantList := []string{"192.0.2.1", "192.0.2.2", "2001:db8::1", "192.0.2.10", "host-a.example", "192.0.2.11"}
	if !slices.Equal(cfg.IPList, wantList) {
		t.Errorf("ip-list = %q, want %q", cfg.IPList, wantList)
	}
	conf := filepath.Join("testdata", "config", "full.conf")
	wantAt := []string{"hosts.txt:2", "hosts.txt:3", "hosts.txt:6", conf + ":13", conf + ":15", conf + ":18"}
	if !slices.Equal(cfg.IPListAt, wantAt) {
		t.Errorf("ip-list positions = %q, want %q", cfg.IPListAt, wantAt)
	}
	if len(cfg.Ignored) != 1 || !strings.HasSuffix(cfg.Ignored[0], ":3: pidfile") {
		t.Errorf("ignored = %q, want the pidfile statement of line 3", cfg.Ignored)
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader("# nothing\n"), "empty.conf", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Settings != DefaultSettings() || len(cfg.IPList) != 0 {
		t.Errorf("got %+v, want the defaults and no hosts", cfg)
	}
	q, err := LoadConfig(filepath.Join("testdata", "config", "quoted.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if q.Settings.Listen != "localhost:9090" || q.Settings.ProbeInterval != 500*time.Millisecond || q.Settings.PingInterval != 100*time.Millisecond {
		t.Errorf("quoted.conf: %+v", q.Settings)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := filepath.Join("testdata", "config")
	tests := []struct {
		file string
		want string // exact error message, without the directory
	}{
		{"unknown.conf", `unknown.conf:2: unknown statement "frobnicate"`},
		{"missing-arg.conf", `missing-arg.conf:1: ping-count: missing argument`},
		{"bad-count.conf", `bad-count.conf:3: ping-count: expected an integer >= 1, got "ten"`},
		{"bad-interval.conf", `bad-interval.conf:1: probe-interval: expected a number of seconds between 0 and 86400, got "-5"`},
		{"extra-arg.conf", `extra-arg.conf:1: tolerance: expected one argument`},
		{"unclosed.conf", `unclosed.conf:1: ip-list: here-document not closed by "EOF"`},
		{"heredoc-noword.conf", `heredoc-noword.conf:1: ip-list: expected one word after <<`},
		{"bad-entry.conf", `bad-entry.conf:3: ip-list: "not a host" is not an IP address nor a hostname`},
		{"missing-file.conf", `missing-file.conf:1: ip-list: open missing.txt: no such file or directory`},
		{"bad-file.conf", `bad-file.conf:1: ip-list: bad-hosts.txt:2: "-bad-" is not an IP address nor a hostname`},
		{"tolerance-default.conf", `tolerance-default.conf:3: tolerance 3 (the default) with ping-count 3 (line 3): a host that lost every echo would count as alive; tolerance must be below ping-count (add a tolerance statement or raise ping-count)`},
		{"tolerance-above.conf", `tolerance-above.conf:4: tolerance 5 (line 4) with ping-count 4 (line 1): a host that lost every echo would count as alive; tolerance must be below ping-count`},
		{"overlap.conf", `overlap.conf: ping-count × ping-interval (10 × 1s = 10s) must be below probe-interval (10s): raise probe-interval or lower ping-count or ping-interval`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadConfig(filepath.Join(dir, tt.file))
			if err == nil {
				t.Fatal("no error")
			}
			if got := strings.ReplaceAll(err.Error(), dir+"/", ""); got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestLoadConfigLineError(t *testing.T) {
	_, err := LoadConfig(filepath.Join("testdata", "config", "bad-count.conf"))
	var le *LineError
	if !errors.As(err, &le) || le.Line != 3 {
		t.Fatalf("err = %v, want a *LineError at line 3", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"ip-list <<EOF\n192.0.2.1\nEOF\n",
		"probe-interval 60\nping-count 10\nping-interval 1\ntolerance 3\ndata-length 56\nlisten localhost:8080\n",
		"ip-list <<-X\n\t127.0.0.1\n\tX\n", "ip-list \"a b\"\n", "tolerance 1 2\n", "# c\n\n", "ip-list <<\n",
		"probe-interval 1e308\n", "ping-interval NaN\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := ParseConfig(strings.NewReader(s), "fuzz.conf", nil)
		if err != nil {
			return
		}
		if verr := cfg.Settings.Validate(); verr != nil {
			t.Fatalf("accepted invalid settings: %v", verr)
		}
		for _, n := range cfg.IPList {
			if c, err := CanonicalName(n); err != nil || c != n {
				t.Fatalf("accepted invalid name %q", n)
			}
		}
	})
}
