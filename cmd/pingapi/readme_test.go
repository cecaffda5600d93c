package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pingapi/pingapi/pkg/wire"
)

// TestREADME: the README says how to get the `pingapi` binary its examples
// call, and its sample answer is the answer to its sample command: the
// same count and target, and exactly the members of the measurement
// document.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"make build", "go build -o pingapi ./cmd/pingapi"} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README.md does not show %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^build:\n\tdeploy/build\.sh pingapi$`).Match(mk) {
		t.Errorf("Makefile has no build target running deploy/build.sh")
	}

	_, usage, ok := bytes.Cut(readme, []byte("## Using the API"))
	if !ok {
		t.Fatal("README.md has no 'Using the API' section")
	}
	cmd := regexp.MustCompile(`curl [^\n]*'http://127\.0\.0\.1:8080/pingapi/([^?']+)\?c=(\d+)'`).FindSubmatch(usage)
	block := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(usage)
	if cmd == nil || block == nil {
		t.Fatal("no sample GET command or JSON answer in 'Using the API'")
	}
	target, count := string(cmd[1]), string(cmd[2])
	var m wire.Measurement
	dec := json.NewDecoder(bytes.NewReader(block[1]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("the sample answer is not a measurement document: %v", err)
	}
	if strconv.Itoa(m.CountRequested) != count || strconv.Itoa(m.CountSent) != count {
		t.Errorf("the sample command asks c=%s; its answer has count_requested %d, count_sent %d", count, m.CountRequested, m.CountSent)
	}
	if m.IPHost != target || m.IP != target {
		t.Errorf("the sample command measures %s; its answer has ip_host %q, ip %q", target, m.IPHost, m.IP)
	}
	var sample, real map[string]any
	json.Unmarshal(block[1], &sample)
	b, _ := json.Marshal(m)
	json.Unmarshal(b, &real)
	if got, want := slices.Sorted(maps.Keys(sample)), slices.Sorted(maps.Keys(real)); !slices.Equal(got, want) {
		t.Errorf("sample members %s, a measurement has %s", strings.Join(got, ","), strings.Join(want, ","))
	}
}
