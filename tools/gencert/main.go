// Command gencert writes a self-signed ECDSA P-256 certificate and key for
// running bellhop with TLS on a development machine.
//
// Usage:
//
//	go run ./tools/gencert [-out-cert cert.pem] [-out-key key.pem]
//	                       [-hosts localhost,127.0.0.1,::1] [-days 365]
//
// The key file is written with mode 0600. Tests do not use this command: they
// call package certgen directly so that no key is left on disk.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bellhop/bellhop/tools/certgen"
)

// defaultHosts are the loopback names a local server is reached by.
const defaultHosts = "localhost,127.0.0.1,::1"

// maxDays bounds -days so the validity period fits in a time.Duration.
const maxDays = 100 * 365

// errUsage reports a bad command line; the flag package has already printed
// the reason and the usage text.
var errUsage = errors.New("gencert: bad usage")

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(2)
	}
}

// options are the parsed command-line flags.
type options struct {
	certPath string
	keyPath  string
	hosts    []string
	validFor time.Duration
}

// run parses args, writes the certificate and key, and prints their paths to
// stdout. Usage errors go to stderr.
func run(args []string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := certgen.Generate(opts.hosts, opts.validFor)
	if err != nil {
		return err
	}
	if err := os.WriteFile(opts.certPath, certPEM, 0o644); err != nil {
		return fmt.Errorf("gencert: cannot write certificate: %w", err)
	}
	if err := writeKey(opts.keyPath, keyPEM); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "certificate: %s\nkey: %s\n", opts.certPath, opts.keyPath)
	return err
}

// parseFlags reads the command line into options.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("gencert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	certPath := fs.String("out-cert", "cert.pem", "path of the PEM certificate to write")
	keyPath := fs.String("out-key", "key.pem", "path of the PEM private key to write (mode 0600)")
	hosts := fs.String("hosts", defaultHosts, "comma-separated DNS names and IP addresses the certificate is valid for")
	days := fs.Int("days", 365, "validity period in days")
	if err := fs.Parse(args); err != nil {
		return options{}, errUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "gencert: unexpected arguments: %q\n", fs.Args())
		return options{}, errUsage
	}
	if *days <= 0 || *days > maxDays {
		fmt.Fprintf(stderr, "gencert: -days must be between 1 and %d, got %d\n", maxDays, *days)
		return options{}, errUsage
	}
	return options{
		certPath: *certPath,
		keyPath:  *keyPath,
		hosts:    splitHosts(*hosts),
		validFor: time.Duration(*days) * 24 * time.Hour,
	}, nil
}

// splitHosts splits a comma-separated list, trimming spaces and dropping
// empty entries so "a, b," means [a b].
func splitHosts(s string) []string {
	var hosts []string
	for h := range strings.SplitSeq(s, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// writeKey writes the private key readable by its owner only, tightening the
// mode of a file that already exists.
func writeKey(path string, keyPEM []byte) error {
	if err := os.WriteFile(path, keyPEM, 0o600); err != nil {
		return fmt.Errorf("gencert: cannot write key: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("gencert: cannot restrict key file mode: %w", err)
	}
	return nil
}
