package archive

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// opener opens a fresh, empty store of one backend for a test.
type opener func(t *testing.T) *Store

// backends returns the backends the contract suite runs against: SQLite
// always, PostgreSQL when a server can be started (CI=true: must).
func backends(t *testing.T) map[string]opener {
	return map[string]opener{
		BackendSQLite:   openSQLite,
		BackendPostgres: openPostgres,
	}
}

func openSQLite(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), Options{DataDir: t.TempDir(), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func fixedNow() time.Time { return time.Unix(1700000000, 0) }

// TestContract runs every contract test against every backend, unchanged.
func TestContract(t *testing.T) {
	tests := []struct {
		name string
		f    func(t *testing.T, st *Store)
	}{
		{"MetadataIdempotent", testMetadataIdempotent},
		{"MetadataSearch", testMetadataSearch},
		{"PointsAndConflict", testPointsAndConflict},
		{"BulkAllOrNothing", testBulkAllOrNothing},
		{"Summaries", testSummaries},
		{"Measurements", testMeasurements},
		{"DeleteMetadata", testDeleteMetadata},
		{"APIKeys", testAPIKeys},
	}
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) { tt.f(t, open(t)) })
			}
		})
	}
}

func throughputMetadata() Metadata {
	return Metadata{
		SubjectType: SubjectPointToPoint, Source: "10.1.1.1", Destination: "10.1.1.2",
		MeasurementAgent: "10.1.1.1", InputSource: "host1.example.net", InputDestination: "host2.example.net",
		ToolName: "bwctl/iperf3", Parameters: map[string]string{"time-duration": "30", "ip-transport-protocol": "tcp"},
		EventTypes: []EventType{
			{Name: "throughput", Summaries: []Summary{{Type: SummaryAggregation, Window: 3600}, {Type: SummaryAverage, Window: 86400}}},
			{Name: "packet-retransmits"},
			{Name: "histogram-owdelay", Summaries: []Summary{{Type: SummaryStatistics, Window: 0}, {Type: SummaryAggregation, Window: 3600}, {Type: SummaryStatistics, Window: 3600}}},
			{Name: "packet-loss-rate", Summaries: []Summary{{Type: SummaryAggregation, Window: 3600}}},
			{Name: "failures"},
		},
	}
}

func mustPut(t *testing.T, st *Store, md Metadata) Metadata {
	t.Helper()
	out, _, err := st.PutMetadata(context.Background(), md)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func testMetadataIdempotent(t *testing.T, st *Store) {
	ctx := context.Background()
	a, created, err := st.PutMetadata(ctx, throughputMetadata())
	if err != nil || !created {
		t.Fatalf("first put: created=%v err=%v", created, err)
	}
	if !ValidKey(a.Key) {
		t.Fatalf("key %q", a.Key)
	}
	b, created, err := st.PutMetadata(ctx, throughputMetadata())
	if err != nil || created || b.Key != a.Key {
		t.Fatalf("second put: key %s created=%v err=%v, want %s false", b.Key, created, err, a.Key)
	}
	md := throughputMetadata()
	md.Parameters["time-duration"] = "20"
	c := mustPut(t, st, md)
	if c.Key == a.Key {
		t.Fatal("different metadata got the same key")
	}
	got, err := st.Metadata(ctx, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Parameters["time-duration"] != "30" || got.InputDestination != "host2.example.net" || len(got.EventTypes) != 5 {
		t.Fatalf("got %+v", got)
	}
	if _, err := st.Metadata(ctx, "0123456789abcdef0123456789abcdef"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	bad := throughputMetadata()
	bad.Source = "host1.example.net"
	if _, _, err := st.PutMetadata(ctx, bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("name as source: %v", err)
	}
}

func testMetadataSearch(t *testing.T, st *Store) {
	ctx := context.Background()
	a := mustPut(t, st, throughputMetadata())
	md := throughputMetadata()
	md.Destination, md.ToolName = "10.1.1.3", "powstream"
	md.EventTypes = []EventType{{Name: "histogram-owdelay"}}
	b := mustPut(t, st, md)
	w := int64(3600)
	for _, tt := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, []string{a.Key, b.Key}},
		{"destination", Filter{Destination: []string{"10.1.1.2"}}, []string{a.Key}},
		{"destination any", Filter{Destination: []string{"10.1.1.2", "10.1.1.3"}}, []string{a.Key, b.Key}},
		{"destination resolved to nothing", Filter{Destination: []string{}}, nil},
		{"tool", Filter{ToolName: "powstream"}, []string{b.Key}},
		{"event type", Filter{EventType: "throughput"}, []string{a.Key}},
		{"summary", Filter{EventType: "histogram-owdelay", SummaryType: SummaryStatistics, SummaryWindow: &w}, []string{a.Key}},
		{"parameter", Filter{Parameters: map[string]string{"time-duration": "30"}}, []string{a.Key, b.Key}},
		{"parameter miss", Filter{Parameters: map[string]string{"time-duration": "31"}}, nil},
		{"limit", Filter{Limit: 1}, []string{a.Key}},
		{"offset", Filter{Limit: 1, Offset: 1}, []string{b.Key}},
	} {
		got, total, err := st.SearchMetadata(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var keys []string
		for _, m := range got {
			keys = append(keys, m.Key)
		}
		if len(keys) != len(tt.want) || (len(keys) > 0 && keys[0] != tt.want[0]) {
			t.Errorf("%s: got %v, want %v", tt.name, keys, tt.want)
		}
		if tt.f.Limit == 0 && total != len(tt.want) {
			t.Errorf("%s: total %d, want %d", tt.name, total, len(tt.want))
		}
		if tt.name == "limit" && total != 2 {
			t.Errorf("limit: total %d, want 2", total)
		}
	}
	// time-updated filter: only a has data.
	v, _ := ParseValue("throughput", []byte(`1000`))
	if err := st.AddPoints(ctx, a.Key, []DataPoint{{TS: 5000, EventType: "throughput", Val: v}}); err != nil {
		t.Fatal(err)
	}
	got, total, err := st.SearchMetadata(ctx, Filter{Updated: TimeRange{Start: 4000, End: 6000}})
	if err != nil || total != 1 || got[0].Key != a.Key {
		t.Fatalf("time filter: %d %v", total, err)
	}
	if e, _ := got[0].EventType("throughput"); e.TimeUpdated != 5000 {
		t.Fatalf("time-updated %d", e.TimeUpdated)
	}
}

func parse(t *testing.T, et, raw string) Value {
	t.Helper()
	v, err := ParseValue(et, []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func testPointsAndConflict(t *testing.T, st *Store) {
	ctx := context.Background()
	a := mustPut(t, st, throughputMetadata())
	p := DataPoint{TS: 1392238294, EventType: "throughput", Val: parse(t, "throughput", `"1000000000"`)}
	if err := st.AddPoints(ctx, a.Key, []DataPoint{p}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddPoints(ctx, a.Key, []DataPoint{p}); !errors.Is(err, ErrExists) {
		t.Fatalf("same numeric ts: %v, want ErrExists", err)
	}
	h1 := DataPoint{TS: 100, EventType: "histogram-owdelay", Val: parse(t, "histogram-owdelay", `{"1":1}`)}
	h2 := DataPoint{TS: 100, EventType: "histogram-owdelay", Val: parse(t, "histogram-owdelay", `{"2":2}`)}
	if err := st.AddPoints(ctx, a.Key, []DataPoint{h1}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddPoints(ctx, a.Key, []DataPoint{h2}); err != nil {
		t.Fatalf("histogram at the same ts replaces: %v", err)
	}
	if err := st.AddPoints(ctx, a.Key, []DataPoint{{TS: 1, EventType: "path-mtu", Val: parse(t, "path-mtu", "9000")}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unregistered event type: %v", err)
	}
	pts, err := st.Data(ctx, DataQuery{Key: a.Key, EventType: "throughput"})
	if err != nil || len(pts) != 1 || string(pts[0].Val) != "1000000000.0" || pts[0].TS != 1392238294 {
		t.Fatalf("base: %s %v", js(pts), err)
	}
	pts, err = st.Data(ctx, DataQuery{Key: a.Key, EventType: "histogram-owdelay"})
	if err != nil || len(pts) != 1 || string(pts[0].Val) != `{"2":2}` {
		t.Fatalf("histogram: %s %v", js(pts), err)
	}
}

func testBulkAllOrNothing(t *testing.T, st *Store) {
	ctx := context.Background()
	a := mustPut(t, st, throughputMetadata())
	if err := st.AddPoints(ctx, a.Key, []DataPoint{{TS: 10, EventType: "packet-retransmits", Val: parse(t, "packet-retransmits", "5")}}); err != nil {
		t.Fatal(err)
	}
	bulk := []DataPoint{
		{TS: 20, EventType: "throughput", Val: parse(t, "throughput", "1")},
		{TS: 10, EventType: "packet-retransmits", Val: parse(t, "packet-retransmits", "6")}, // conflicts
	}
	if err := st.AddPoints(ctx, a.Key, bulk); !errors.Is(err, ErrExists) {
		t.Fatalf("bulk with a conflict: %v", err)
	}
	pts, err := st.Data(ctx, DataQuery{Key: a.Key, EventType: "throughput"})
	if err != nil || len(pts) != 0 {
		t.Fatalf("bulk was not all or nothing: %s %v", js(pts), err)
	}
	// The seed's own bulk example writes one event type twice at one ts:
	// the later value wins within one request.
	bulk = []DataPoint{
		{TS: 30, EventType: "throughput", Val: parse(t, "throughput", "1000000000")},
		{TS: 30, EventType: "throughput", Val: parse(t, "throughput", "900000000")},
	}
	if err := st.AddPoints(ctx, a.Key, bulk); err != nil {
		t.Fatal(err)
	}
	pts, _ = st.Data(ctx, DataQuery{Key: a.Key, EventType: "throughput"})
	if len(pts) != 1 || string(pts[0].Val) != "900000000.0" {
		t.Fatalf("got %s", js(pts))
	}
}

func testSummaries(t *testing.T, st *Store) {
	ctx := context.Background()
	a := mustPut(t, st, throughputMetadata())
	var pts []DataPoint
	// Two hours: 3600..7199 and 7200..
	for i, ts := range []int64{3600, 3700, 7200} {
		pts = append(pts,
			DataPoint{TS: ts, EventType: "throughput", Val: parse(t, "throughput", []string{"10", "20", "40"}[i])},
			DataPoint{TS: ts, EventType: "histogram-owdelay", Val: parse(t, "histogram-owdelay", []string{`{"34.3":1,"34.4":2}`, `{"34.4":3,"34.5":1}`, `{"35":1}`}[i])},
			DataPoint{TS: ts, EventType: "packet-loss-rate", Val: parse(t, "packet-loss-rate", []string{`{"numerator":1,"denominator":10}`, `{"numerator":"0","denominator":"10"}`, `{"numerator":5,"denominator":10}`}[i])},
		)
	}
	if err := st.AddPoints(ctx, a.Key, pts); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		q    DataQuery
		want string
	}{
		{DataQuery{EventType: "throughput", SummaryType: SummaryAggregation, Window: 3600}, `[{"ts":3600,"val":30.0},{"ts":7200,"val":40.0}]`},
		{DataQuery{EventType: "throughput", SummaryType: SummaryAverage, Window: 86400}, `[{"ts":0,"val":23.333333333333332}]`},
		{DataQuery{EventType: "histogram-owdelay", SummaryType: SummaryAggregation, Window: 3600}, `[{"ts":3600,"val":{"34.3":1,"34.4":5,"34.5":1}},{"ts":7200,"val":{"35":1}}]`},
		{DataQuery{EventType: "packet-loss-rate", SummaryType: SummaryAggregation, Window: 3600}, `[{"ts":3600,"val":0.05},{"ts":7200,"val":0.5}]`},
		{DataQuery{EventType: "packet-loss-rate"}, `[{"ts":3600,"val":0.1},{"ts":3700,"val":0.0},{"ts":7200,"val":0.5}]`},
		{DataQuery{EventType: "throughput", Range: TimeRange{Start: 3650, End: 7200}}, `[{"ts":3700,"val":20.0},{"ts":7200,"val":40.0}]`},
		{DataQuery{EventType: "throughput", Limit: 1, Offset: 1}, `[{"ts":3700,"val":20.0}]`},
	} {
		tt.q.Key = a.Key
		got, err := st.Data(ctx, tt.q)
		if err != nil {
			t.Fatalf("%+v: %v", tt.q, err)
		}
		if js(got) != tt.want {
			t.Errorf("%+v:\n got %s\nwant %s", tt.q, js(got), tt.want)
		}
	}
	got, err := st.Data(ctx, DataQuery{Key: a.Key, EventType: "histogram-owdelay", SummaryType: SummaryStatistics, Window: 3600})
	if err != nil || len(got) != 2 {
		t.Fatalf("statistics: %s %v", js(got), err)
	}
	var s map[string]any
	if err := json.Unmarshal(got[0].Val, &s); err != nil {
		t.Fatal(err)
	}
	if s["minimum"] != 34.3 || s["maximum"] != 34.5 || s["median"] != 34.4 {
		t.Errorf("statistics: %s", got[0].Val)
	}
	if _, err := st.Data(ctx, DataQuery{Key: a.Key, EventType: "throughput", SummaryType: SummaryAggregation, Window: 60}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unregistered summary: %v", err)
	}
}

func testMeasurement(at time.Time, target string, rtts ...time.Duration) Measurement {
	m := Measurement{
		Time: at, Agent: netip.MustParseAddr("192.0.2.10"), Target: target, Addr: netip.MustParseAddr("192.0.2.20"),
		Tool: ToolMonitor, PacketSize: 56, Interval: time.Second, SampleSize: len(rtts), Sent: len(rtts), RTTs: rtts,
	}
	for _, r := range rtts {
		if r >= 0 {
			m.TTLs = append(m.TTLs, 58)
		}
	}
	return m
}

func testMeasurements(t *testing.T, st *Store) {
	ctx := context.Background()
	base := time.Unix(1700000000, 0)
	ms := []Measurement{
		testMeasurement(base, "host.example", 41020*time.Microsecond, Lost, 41100*time.Microsecond),
		testMeasurement(base.Add(time.Minute), "host.example", 40*time.Millisecond, 42*time.Millisecond, 44*time.Millisecond),
		testMeasurement(base.Add(time.Minute), "host.example", 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond), // same ms
	}
	ms[1].Duplicates = 2
	if err := st.AddMeasurements(ctx, ms); err != nil {
		t.Fatal(err)
	}
	got, err := st.Measurements(ctx, SeriesQuery{Target: "host.example"}, base, base.Add(time.Hour), 0)
	if err != nil || len(got) != 3 {
		t.Fatalf("measurements: %d %v", len(got), err)
	}
	if got[0].Received() != 2 || got[0].RTTs[2] != 41100*time.Microsecond || got[1].Duplicates != 2 || got[0].Addr != ms[0].Addr {
		t.Fatalf("got %+v", got[0])
	}
	found, total, err := st.SearchMetadata(ctx, Filter{ToolName: ToolMonitor, InputDestination: "host.example"})
	if err != nil || total != 1 {
		t.Fatalf("series metadata: %d %v", total, err)
	}
	key := found[0].Key
	w := int64(3600)
	if got, n, _ := st.SearchMetadata(ctx, Filter{EventType: "histogram-rtt", SummaryType: SummaryStatistics, SummaryWindow: &w}); n != 1 || got[0].Key != key {
		t.Errorf("search pingapi series by summary: %d", n)
	}
	if _, n, _ := st.SearchMetadata(ctx, Filter{EventType: "throughput"}); n != 0 {
		t.Errorf("search by an event type pingapi does not have: %d", n)
	}
	if e, ok := found[0].EventType("histogram-rtt"); !ok || len(e.Summaries) != 5 {
		t.Errorf("pingapi event types: %+v", found[0].EventTypes)
	}
	if e, _ := found[0].EventType("histogram-rtt"); e.TimeUpdated != 1700000060 {
		t.Errorf("time-updated %d", e.TimeUpdated)
	}
	pts, err := st.Data(ctx, DataQuery{Key: key, EventType: "histogram-rtt"})
	if err != nil || len(pts) != 3 || string(pts[0].Val) != `{"41.02":1,"41.10":1}` {
		t.Fatalf("histogram-rtt: %s %v", js(pts), err)
	}
	pts, _ = st.Data(ctx, DataQuery{Key: key, EventType: "packet-loss-rate-bidir", SummaryType: SummaryAggregation, Window: 3600})
	if js(pts) != `[{"ts":1699999200,"val":0.1111111111111111}]` {
		t.Errorf("loss aggregation: %s", js(pts))
	}
	pts, _ = st.Data(ctx, DataQuery{Key: key, EventType: "packet-count-lost-bidir"})
	if js(pts) != `[{"ts":1700000000,"val":1.0},{"ts":1700000060,"val":0.0},{"ts":1700000060,"val":0.0}]` {
		t.Errorf("lost: %s", js(pts))
	}
	pts, _ = st.Data(ctx, DataQuery{Key: key, EventType: "histogram-ttl-reverse", SummaryType: SummaryStatistics})
	if len(pts) != 3 {
		t.Errorf("ttl statistics: %s", js(pts))
	}
	ws, err := st.Windows(ctx, SeriesQuery{Target: "host.example"}, base.Add(-time.Hour), base.Add(time.Hour), time.Hour)
	if err != nil || len(ws) != 1 || ws[0].Measurements != 3 || ws[0].Sent != 9 || ws[0].Received != 8 || ws[0].Median != 42*time.Millisecond {
		t.Fatalf("windows: %+v %v", ws, err)
	}
	if err := st.AddPoints(ctx, key, []DataPoint{{TS: 1, EventType: "packet-count-sent", Val: parse(t, "packet-count-sent", "1")}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("write into a pingapi series: %v", err)
	}
}

func testDeleteMetadata(t *testing.T, st *Store) {
	ctx := context.Background()
	a := mustPut(t, st, throughputMetadata())
	if err := st.AddPoints(ctx, a.Key, []DataPoint{{TS: 1, EventType: "throughput", Val: parse(t, "throughput", "1")}}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMetadata(ctx, a.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Metadata(ctx, a.Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := st.DeleteMetadata(ctx, a.Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// Registering again starts empty.
	b := mustPut(t, st, throughputMetadata())
	pts, err := st.Data(ctx, DataQuery{Key: b.Key, EventType: "throughput"})
	if err != nil || len(pts) != 0 {
		t.Fatalf("data survived delete: %s %v", js(pts), err)
	}
}

func testAPIKeys(t *testing.T, st *Store) {
	ctx := context.Background()
	if err := st.CreateAPIKey(ctx, "pscheduler", "h1"); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAPIKey(ctx, "pscheduler", "h2"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate name: %v", err)
	}
	k, err := st.APIKeyByHash(ctx, "h1")
	if err != nil || k.Name != "pscheduler" || !k.Revoked.IsZero() || k.Created.Unix() != fixedNow().Unix() {
		t.Fatalf("lookup: %+v %v", k, err)
	}
	if err := st.RevokeAPIKey(ctx, "pscheduler"); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeAPIKey(ctx, "pscheduler"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	k, _ = st.APIKeyByHash(ctx, "h1")
	if k.Revoked.IsZero() {
		t.Fatal("not revoked")
	}
	if _, err := st.APIKeyByHash(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	keys, err := st.APIKeys(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatalf("list: %v %v", keys, err)
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
