package auth

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/pingapi/pingapi/internal/netlab"
)

// TestShaCryptVectors: the examples of Drepper's specification.
func TestShaCryptVectors(t *testing.T) {
	for _, tt := range []struct{ setting, password, want string }{
		{"$6$saltstring", "Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{"$5$rounds=10000$saltstringsaltstring", "Hello world!", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"},
		{"$6$rounds=10000$saltstringsaltstring", "Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
		{"$5$rounds=10$roundstoolow", "the minimum number is still observed", "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"},
	} {
		if got, ok := shaCrypt(tt.password, tt.setting); !ok || got != tt.want {
			t.Errorf("shaCrypt(%q, %q) =\n%s\nwant\n%s", tt.password, tt.setting, got, tt.want)
		}
	}
}

// TestShaCryptOpenSSL: hashes made by the real openssl passwd verify.
func TestShaCryptOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		netlab.Unavailable(t, "no openssl to make the reference hashes")
	}
	for _, alg := range []string{"-5", "-6"} {
		for _, pw := range []string{"guessme", "x", "a much longer password than sixty-four bytes, to cover the repeated blocks!!"} {
			out, err := exec.Command("openssl", "passwd", alg, "-salt", "Zq8x.Ab/12", pw).Output()
			if err != nil {
				t.Fatal(err)
			}
			h := strings.TrimSpace(string(out))
			if got, ok := shaCrypt(pw, h); !ok || got != h {
				t.Errorf("openssl passwd %s %q = %s; shaCrypt gives %s", alg, pw, h, got)
			}
		}
	}
}
