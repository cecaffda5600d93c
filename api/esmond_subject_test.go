package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestEsmondNetworkElement: esmond's second subject type (pScheduler's
// tests without a destination): source, measurement-agent and tool-name
// are required, input-source defaults to source, a destination is refused;
// the record reads back without destination fields and a subject-type
// search finds it.
func TestEsmondNetworkElement(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e := newEsmondEnvOn(t, backend, nil)
		body := `{"subject-type":"network-element","source":"198.51.100.30","measurement-agent":"198.51.100.30",
		 "tool-name":"pscheduler/dnsresolve","event-types":[{"event-type":"pscheduler-raw"}]}`
		key := e.register(t, body)
		if !hex32.MatchString(key) {
			t.Fatalf("key %q", key)
		}
		if again := e.register(t, body); again != key {
			t.Errorf("registered again: key %s, want %s", again, key)
		}
		md := decodeJSON[map[string]any](t, wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/"+key+"/", ""), http.StatusOK))
		if md["subject-type"] != "network-element" || md["source"] != "198.51.100.30" || md["input-source"] != "198.51.100.30" || md["tool-name"] != "pscheduler/dnsresolve" {
			t.Errorf("record %v", md)
		}
		for _, f := range []string{"destination", "input-destination"} {
			if _, ok := md[f]; ok {
				t.Errorf("network-element record has %s: %v", f, md)
			}
		}
		e.register(t, pingMetadata("198.51.100.30", "10.1.1.2", "pingapi/ping"))
		got := decodeJSON[[]map[string]any](t, wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/?subject-type=network-element", ""), http.StatusOK))
		if len(got) != 1 || got[0]["metadata-key"] != key {
			t.Errorf("subject-type search: %v", got)
		}
		got = decodeJSON[[]map[string]any](t, wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/?destination=10.1.1.2", ""), http.StatusOK))
		if len(got) != 1 || got[0]["subject-type"] != "point-to-point" {
			t.Errorf("destination search: %v", got)
		}
		for _, bad := range []string{
			`{"subject-type":"network-element","measurement-agent":"198.51.100.30","tool-name":"t","event-types":[]}`,
			`{"subject-type":"network-element","source":"198.51.100.30","tool-name":"t","event-types":[]}`,
			`{"subject-type":"network-element","source":"198.51.100.30","measurement-agent":"198.51.100.30","event-types":[]}`,
			`{"subject-type":"network-element","source":"198.51.100.30","measurement-agent":"198.51.100.30","tool-name":"t","input-destination":"x","event-types":[]}`,
			`{"subject-type":"Network-Element","source":"198.51.100.30","measurement-agent":"198.51.100.30","tool-name":"t","event-types":[]}`,
		} {
			wantStatus(t, e.write(http.MethodPost, "/esmond/perfsonar/archive/", bad), http.StatusBadRequest)
		}
	})
}

// TestEsmondRegisterFoldsCase: esmond's metadata checksum lower-cases
// every field name and value, so the same metadata posted with other
// letter case answers the existing record (as first registered); a real
// difference is still another record.
func TestEsmondRegisterFoldsCase(t *testing.T) {
	onBackends(t, func(t *testing.T, backend string) {
		e := newEsmondEnvOn(t, backend, nil)
		named := strings.Replace(pingMetadata("198.51.100.30", "10.1.1.2", "bwctl/ping"), `"input-destination":"10.1.1.2"`, `"input-destination":"host2.example.net"`, 1)
		key := e.register(t, named)
		upper := strings.NewReplacer(`"bwctl/ping"`, `"BWCTL/Ping"`, `"ip-transport-protocol":"icmp"`, `"IP-Transport-Protocol":"ICMP"`,
			`"input-destination":"host2.example.net"`, `"input-destination":"HOST2.Example.net","input-source":"198.51.100.30"`).Replace(named)
		if !strings.Contains(upper, "BWCTL") || !strings.Contains(upper, "ICMP") || !strings.Contains(upper, "HOST2") {
			t.Fatalf("replacement failed: %s", upper)
		}
		if got := e.register(t, upper); got != key {
			t.Errorf("case variant: key %s, want the existing %s", got, key)
		}
		md := decodeJSON[map[string]any](t, wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/"+key+"/", ""), http.StatusOK))
		if md["tool-name"] != "bwctl/ping" || md["ip-transport-protocol"] != "icmp" {
			t.Errorf("the existing record changed: %v", md)
		}
		if other := e.register(t, pingMetadata("198.51.100.30", "10.1.1.2", "bwctl/pingx")); other == key {
			t.Error("another tool-name answered the same record")
		}
		got := decodeJSON[[]map[string]any](t, wantStatus(t, e.do(http.MethodGet, "/esmond/perfsonar/archive/?source=198.51.100.30", ""), http.StatusOK))
		if len(got) != 2 {
			t.Errorf("%d records, want 2", len(got))
		}
	})
}
