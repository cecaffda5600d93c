// Package wire holds the JSON documents of pingapi's API, each defined
// once: the measurement document of /pingapi and `pingapi measure --json`
// (Measurement), and the monitor's host record and identity (Record, ID)
// with the streaming writer of GET /host derived from Record itself.
//
// It imports nothing but the standard library, so the API, pkg/client and
// the command-line tools share these types without linking the ICMP
// engine. Values are plain data; the package has no mutable state.
package wire
