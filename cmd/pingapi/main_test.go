package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunDispatch(t *testing.T) {
	tests := []struct {
		name     string
		prog     string
		args     []string
		wantCode int
		wantOut  string // substring of stdout; "": stdout must be empty
		wantErr  string // substring of stderr; "": stderr must be empty
	}{
		{"help", "pingapi", []string{"help"}, 0, "commands:", ""},
		{"-h", "pingapi", []string{"-h"}, 0, "measure", ""},
		{"unknown command", "pingapi", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"version", "/usr/bin/pingapi", []string{"version"}, 0, "pingapi", ""},
		// ping903q's Nagios flags with only the program name changed: routed
		// to check, which reports UNKNOWN (3) because no server listens there.
		{"nagios flags", "/usr/bin/pingapi", []string{"-r", "-H", "192.0.2.1", "-w", "200.0,20%", "-c", "600.0,60%", "--url", "http://127.0.0.1:1"}, 3, "PING UNKNOWN - cannot reach", ""},
		{"ping903q link", "/usr/local/bin/ping903q", []string{"-H", "192.0.2.1", "-w", "200.0,20%", "-c", "600.0,60%", "--url", "http://127.0.0.1:1"}, 3, "PING UNKNOWN - cannot reach", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PINGAPI_URL", "http://127.0.0.1:1")
			var out, errb bytes.Buffer
			code := run(tt.prog, tt.args, &out, &errb)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.wantCode, out.String(), errb.String())
			}
			if !containsOrEmpty(out.String(), tt.wantOut) || !containsOrEmpty(errb.String(), tt.wantErr) {
				t.Fatalf("stdout %q (want %q), stderr %q (want %q)", out.String(), tt.wantOut, errb.String(), tt.wantErr)
			}
		})
	}
}

// containsOrEmpty reports whether got contains want, or, when want is
// empty, whether got is empty too: strings.Contains(got, "") always holds,
// so an empty expectation must mean "nothing".
func containsOrEmpty(got, want string) bool {
	if want == "" {
		return got == ""
	}
	return strings.Contains(got, want)
}
