package main

import (
	"bytes"
	"context"
	"testing"
)

func TestMatch(t *testing.T) {
	url := monitorServer(t)
	m := func(ctx context.Context, args []string, getenv func(string) string, o, e *bytes.Buffer) int {
		return match(ctx, args, getenv, o, e)
	}
	runCLI(t, m, url, []cliCase{
		{"by address", []string{"192.0.2.7"}, nil, "web.test\n", "", 0},
		{"by name", []string{"web.test"}, nil, "web.test\n", "", 0},
		{"literal", []string{"192.0.2.1"}, nil, "192.0.2.1\n", "", 0},
		{"not monitored", []string{"192.0.2.99"}, nil, "", "", 2},
		{"several", []string{"192.0.2.7", "192.0.2.99"}, nil, "192.0.2.7: web.test\n192.0.2.99: \n", "", 2},
		{"no host", nil, nil, "", "usage: ping903q", 3},
		{"server down", []string{"192.0.2.1"}, map[string]string{"PINGAPI_URL": downURL(t)}, "", "cannot reach the pingapi server", 3},
	})
}
