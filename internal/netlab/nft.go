package netlab

import (
	"fmt"
	"os/exec"
	"strings"
)

// Nft loads an nftables ruleset (nft -f syntax) into the host's namespace,
// for rules the helpers below do not cover. Use a table other than
// "inet netlab", which DropEchoPercent and DropAll replace.
func (h *Host) Nft(ruleset string) {
	h.t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		Unavailable(h.t, "needs nftables (the nft command)")
	}
	cmd := exec.Command("ip", "netns", "exec", h.Name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(ruleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		h.t.Fatalf("netlab: nft in %s: %v: %s\n%s", h.Name, err, out, ruleset)
	}
}

// DropEchoPercent makes the host drop k percent (0..100) of the ICMP and
// ICMPv6 echo requests it receives, each independently at random (nftables
// numgen random), so the number dropped out of n is Binomial(n, k/100).
// It replaces any earlier drop rule of this Host.
func (h *Host) DropEchoPercent(k int) {
	h.t.Helper()
	if k < 0 || k > 100 {
		h.t.Fatalf("netlab: DropEchoPercent(%d): want 0..100", k)
	}
	h.Nft(fmt.Sprintf(`table inet netlab
delete table inet netlab
table inet netlab {
	chain input {
		type filter hook input priority 0; policy accept;
		icmp type echo-request numgen random mod 100 < %d drop
		icmpv6 type echo-request numgen random mod 100 < %d drop
	}
}
`, k, k))
}

// DropAll makes the host silently drop every packet it receives except
// IPv6 neighbour discovery (so the link still resolves, as an unreachable
// server behind a firewall would). It replaces any earlier drop rule.
func (h *Host) DropAll() {
	h.t.Helper()
	h.Nft(`table inet netlab
delete table inet netlab
table inet netlab {
	chain input {
		type filter hook input priority 0; policy drop;
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
	}
}
`)
}
