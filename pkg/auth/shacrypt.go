package auth

import (
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strconv"
	"strings"
)

// shaCrypt computes the SHA-crypt string ("$5$" SHA-256 or "$6$" SHA-512,
// Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512", the format of
// glibc's crypt(3), mkpasswd and `openssl passwd -5/-6`) of password with
// the salt and rounds of setting (a full hash or just "$6$[rounds=N$]salt").
// ok is false when setting is not of that form.
func shaCrypt(password, setting string) (string, bool) {
	var newHash func() hash.Hash
	var order [][3]int
	var tail []int
	switch {
	case strings.HasPrefix(setting, "$5$"):
		newHash = sha256.New
		order = [][3]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
			{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}}
		tail = []int{0, 31, 30}
	case strings.HasPrefix(setting, "$6$"):
		newHash = sha512.New
		order = [][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
			{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10},
			{53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57}, {37, 58, 16},
			{59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}}
		tail = []int{0, 0, 63}
	default:
		return "", false
	}
	prefix, rest := setting[:3], setting[3:]
	rounds, explicit := 5000, false
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		n, after, found := strings.Cut(r, "$")
		v, err := strconv.Atoi(n)
		if !found || err != nil {
			return "", false
		}
		rounds, explicit, rest = min(max(v, 1000), 999_999_999), true, after
	}
	salt, _, _ := strings.Cut(rest, "$")
	if len(salt) > 16 {
		salt = salt[:16]
	}
	p, s := []byte(password), []byte(salt)

	sum := func(parts ...[]byte) []byte {
		h := newHash()
		for _, b := range parts {
			h.Write(b)
		}
		return h.Sum(nil)
	}
	b := sum(p, s, p)
	size := len(b)
	ha := newHash()
	ha.Write(p)
	ha.Write(s)
	for i := len(p); i > 0; i -= size {
		ha.Write(b[:min(i, size)])
	}
	for i := len(p); i > 0; i >>= 1 {
		if i&1 != 0 {
			ha.Write(b)
		} else {
			ha.Write(p)
		}
	}
	a := ha.Sum(nil)
	repeat := func(digest []byte, n int) []byte {
		out := make([]byte, 0, n)
		for len(out) < n {
			out = append(out, digest[:min(size, n-len(out))]...)
		}
		return out
	}
	hp := newHash()
	for range p {
		hp.Write(p)
	}
	pp := repeat(hp.Sum(nil), len(p))
	hs := newHash()
	for range 16 + int(a[0]) {
		hs.Write(s)
	}
	ss := repeat(hs.Sum(nil), len(s))
	for r := range rounds {
		h := newHash()
		if r&1 != 0 {
			h.Write(pp)
		} else {
			h.Write(a)
		}
		if r%3 != 0 {
			h.Write(ss)
		}
		if r%7 != 0 {
			h.Write(pp)
		}
		if r&1 != 0 {
			h.Write(a)
		} else {
			h.Write(pp)
		}
		a = h.Sum(a[:0])
	}

	const alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var out strings.Builder
	out.WriteString(prefix)
	if explicit {
		out.WriteString("rounds=" + strconv.Itoa(rounds) + "$")
	}
	out.WriteString(salt + "$")
	enc := func(b2, b1, b0 byte, n int) {
		w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
		for range n {
			out.WriteByte(alphabet[w&0x3f])
			w >>= 6
		}
	}
	for _, o := range order {
		enc(a[o[0]], a[o[1]], a[o[2]], 4)
	}
	if size == 32 {
		enc(0, a[tail[1]], a[tail[2]], 3)
	} else {
		enc(0, 0, a[tail[2]], 2)
	}
	return out.String(), true
}
