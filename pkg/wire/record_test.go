package wire

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// subsetType is a struct type built from Record's own fields (tags
// included) that has only those of set, in Record's order: what
// json.Marshal is given to write that subset.
func subsetType(set AttrSet) (reflect.Type, []int) {
	rt := reflect.TypeFor[Record]()
	var fields []reflect.StructField
	var idx []int
	for i := range rt.NumField() {
		if set&(1<<i) != 0 {
			fields = append(fields, rt.Field(i))
			idx = append(idx, i)
		}
	}
	return reflect.StructOf(fields), idx
}

// marshalAs is json.Marshal of r's fields idx as a value of type st.
func marshalAs(t *testing.T, st reflect.Type, idx []int, r Record) []byte {
	t.Helper()
	v := reflect.New(st).Elem()
	rv := reflect.ValueOf(r)
	for i, j := range idx {
		v.Field(i).Set(rv.Field(j))
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func marshalSubset(t *testing.T, r Record, set AttrSet) []byte {
	st, idx := subsetType(set)
	return marshalAs(t, st, idx, r)
}

// testRecords cover every kind of value the writer formats: floats in
// both of encoding/json's notations, negative zero, large and tiny values,
// a name that needs escaping, an invalid record.
func testRecords() []Record {
	return []Record{
		{Name: "192.0.2.1", Validity: true, Status: StatusValid, XmitTimestamp: 1795330809.404, StartTimestamp: 1795330800,
			StopTimestamp: 1795330810.002, Xmit: 10, Recv: 7, Loss: 30, TMin: 0.041, TMax: 12.5, Avg: 3.333, StdDev: 0.816,
			Jitter: 1, Dup: 2, Alive: true},
		{Name: "h1.example", Validity: true, Status: StatusProbing, Loss: 33.333, TMin: 1e-7, TMax: 1e21, Avg: 123456789.123,
			StdDev: math.Copysign(0, -1), Jitter: 5e-324, Xmit: 1 << 40, Recv: -1},
		{Name: "a\"b\\c\x00\u2028<>&\xff", Validity: false, Status: StatusUnreachable, XmitTimestamp: 1.5, Xmit: 3, Avg: 9},
		{Name: "192.0.2.9", Validity: false, Status: StatusUnreachable, XmitTimestamp: 2.5, Error: "No route to host"},
		{Name: "<b>&amp;", Validity: true, Status: StatusValid, Loss: 100},
		{Name: "", Status: StatusInit},
	}
}

// fragments are json.Marshal's bytes of each member of r alone, without
// the braces ("" for an omitted empty member): a struct of one field, built
// from Record's own field and tag.
func fragments(t *testing.T, r Record) []string {
	t.Helper()
	n := reflect.TypeFor[Record]().NumField()
	out := make([]string, n)
	for i := range n {
		b := marshalSubset(t, r, 1<<i)
		out[i] = string(b[1 : len(b)-1])
	}
	return out
}

// TestAppendRecordEqualsMarshal: for every subset of the members, the
// streaming writer writes exactly what json.Marshal writes for the same
// members of the same record (and only the warranted ones when the record
// is not valid), so the record has one definition: its struct. Every
// subset is compared with json.Marshal's members joined in Record's order
// (how encoding/json writes a struct); a sample of subsets, all singletons
// and pairs among them, is compared with json.Marshal of a struct of just
// those fields, which proves the joining.
func TestAppendRecordEqualsMarshal(t *testing.T) {
	n := reflect.TypeFor[Record]().NumField()
	if n > 32 {
		t.Fatalf("Record has %d fields; AttrSet holds 32", n)
	}
	recs := testRecords()
	frags := make([][]string, len(recs))
	for i, r := range recs {
		frags[i] = fragments(t, r)
	}
	parts := make([]string, 0, n)
	for set := AttrSet(0); set < 1<<n; set++ {
		for i, r := range recs {
			eff := set
			if !r.Validity {
				eff &= warranted
			}
			parts = parts[:0]
			for j := range n {
				if eff&(1<<j) != 0 && frags[i][j] != "" {
					parts = append(parts, frags[i][j])
				}
			}
			if got, want := string(AppendRecord(nil, &r, set)), "{"+strings.Join(parts, ",")+"}"; got != want {
				t.Fatalf("record %q, set %#x:\n got %s\nwant %s", r.Name, set, got, want)
			}
		}
	}
	var sample []AttrSet
	for i := range n {
		for j := i; j < n; j++ {
			sample = append(sample, 1<<i|1<<j)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 256 {
		sample = append(sample, AttrSet(rng.Uint32())&(1<<n-1))
	}
	sample = append(sample, 0, 1<<n-1)
	for _, set := range sample {
		for _, r := range recs {
			eff := set
			if !r.Validity {
				eff &= warranted
			}
			if got, want := AppendRecord(nil, &r, set), marshalSubset(t, r, eff); string(got) != string(want) {
				t.Fatalf("record %q, set %#x:\n got %s\nwant %s", r.Name, set, got, want)
			}
		}
	}
	r := recs[0]
	if got, want := AppendRecord(nil, &r, AllAttrs), marshalSubset(t, r, 1<<n-1); string(got) != string(want) {
		t.Errorf("all members: got %s, want %s", got, want)
	}
}

// TestRecordMembers: the member list and the warranted four come from the
// struct tags, in Ping903's order, with jitter, dup and error added.
func TestRecordMembers(t *testing.T) {
	want := "name,validity,status,xmit-timestamp,start-timestamp,stop-timestamp,xmit,recv,loss,tmin,tmax,avg,stddev,jitter,dup,alive,error"
	if got := strings.Join(AttrNames(), ","); got != want {
		t.Errorf("members %s, want %s", got, want)
	}
	set, bad := ParseAttrs("name,validity,status,xmit-timestamp,error")
	if bad != "" || set != warranted {
		t.Errorf("warranted %#x, want %#x (%q)", warranted, set, bad)
	}
}

func TestParseAttrs(t *testing.T) {
	tests := []struct {
		in   string
		want AttrSet
		bad  string
	}{
		{"", AllAttrs, ""},
		{"name", 1, ""},
		{" name , alive ", 1 | 1<<15, ""},
		{"name,name", 1, ""},
		{"name,colour", 0, "colour"},
		{"name,,alive", 0, ""},
	}
	for _, tt := range tests {
		got, bad := ParseAttrs(tt.in)
		if got != tt.want || bad != tt.bad {
			t.Errorf("ParseAttrs(%q) = %#x, %q; want %#x, %q", tt.in, got, bad, tt.want, tt.bad)
		}
	}
}

func TestAppendFloatNotFinite(t *testing.T) {
	r := Record{Validity: true, Avg: math.NaN(), TMax: math.Inf(1)}
	set, _ := ParseAttrs("avg,tmax")
	if got := string(AppendRecord(nil, &r, set)); got != `{"tmax":0,"avg":0}` {
		t.Errorf("got %s", got)
	}
}

// FuzzRecordJSON: any attr parameter either is refused or yields exactly
// what json.Marshal writes for those members, whatever the name and
// numbers.
func FuzzRecordJSON(f *testing.F) {
	for _, s := range []string{"", "name,alive", "jitter", "name,,alive", "colour", " name ", "name,name", "dup,loss"} {
		f.Add(s, "192.0.2.1", true, 1.5, 10.0)
	}
	f.Add("name", "a\"b\\c\x00\u2028<>&", false, 0.0, 0.0)
	f.Add("name,status", "\xe2\x80", true, 1e-9, 1e300)
	f.Fuzz(func(t *testing.T, attr, name string, valid bool, avg, loss float64) {
		set, bad := ParseAttrs(attr)
		if bad != "" {
			return
		}
		if math.IsNaN(avg) || math.IsInf(avg, 0) || math.IsNaN(loss) || math.IsInf(loss, 0) {
			return
		}
		r := Record{Name: name, Validity: valid, Status: StatusValid, Avg: avg, Loss: loss}
		if !valid {
			set &= warranted
		}
		if got, want := AppendRecord(nil, &r, set), marshalSubset(t, r, set&(1<<len(members)-1)); string(got) != string(want) {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
}

// BenchmarkAppendRecord against its peer, json.Marshal of the same record:
// GET /host writes 100,000 of them.
func BenchmarkAppendRecord(b *testing.B) {
	r := testRecords()[0]
	b.Run("AppendRecord", func(b *testing.B) {
		buf := make([]byte, 0, 512)
		for b.Loop() {
			buf = AppendRecord(buf[:0], &r, AllAttrs)
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(&r)
		}
	})
}
