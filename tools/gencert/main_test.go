package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bellhop/bellhop/tools/certgen"
)

func TestRunWritesUsableFiles(t *testing.T) {
	dir := t.TempDir()
	certPath := filepath.Join(dir, "c.pem")
	keyPath := filepath.Join(dir, "k.pem")
	var stdout, stderr bytes.Buffer
	args := []string{"-out-cert", certPath, "-out-key", keyPath, "-hosts", "bellhop.test, 127.0.0.1,", "-days", "2"}
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v (stderr %q)", err, stderr.String())
	}
	want := "certificate: " + certPath + "\nkey: " + keyPath + "\n"
	if stdout.String() != want {
		t.Errorf("stdout = %q, want %q", stdout.String(), want)
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		t.Fatalf("LoadX509KeyPair: %v", err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cert.DNSNames, []string{"bellhop.test"}) || len(cert.IPAddresses) != 1 {
		t.Errorf("SANs = %v %v, want [bellhop.test] [127.0.0.1]", cert.DNSNames, cert.IPAddresses)
	}
	if d := time.Until(cert.NotAfter); d < 47*time.Hour || d > 49*time.Hour {
		t.Errorf("NotAfter in %v, want about 48h", d)
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v (err %v), want 0600", fi.Mode().Perm(), err)
	}
}

func TestRunTightensExistingKeyMode(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyPath, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-out-cert", filepath.Join(dir, "cert.pem"), "-out-key", keyPath}
	if err := run(args, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v (err %v), want 0600", fi.Mode().Perm(), err)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-dir", "x.pem")
	cases := []struct {
		name    string
		args    []string
		wantErr error  // checked with errors.Is when set
		wantMsg string // substring of the error or stderr
	}{
		{"flag=unknown", []string{"-nope"}, errUsage, "flag provided but not defined"},
		{"args=extra", []string{"extra"}, errUsage, "unexpected arguments"},
		{"days=zero", []string{"-days", "0"}, errUsage, "-days must be between"},
		{"days=huge", []string{"-days", "99999999"}, errUsage, "-days must be between"},
		{"hosts=empty", []string{"-hosts", " , "}, certgen.ErrNoHosts, "no hosts"},
		{"hosts=port", []string{"-hosts", "localhost:80"}, certgen.ErrBadHost, "invalid host"},
		{"cert=unwritable", []string{"-out-cert", missing, "-out-key", filepath.Join(dir, "k.pem")}, nil, "cannot write certificate"},
		{"key=unwritable", []string{"-out-cert", filepath.Join(dir, "c.pem"), "-out-key", missing}, nil, "cannot write key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(tc.args, &bytes.Buffer{}, &stderr)
			if err == nil {
				t.Fatal("run succeeded, want an error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
			if msg := err.Error() + stderr.String(); !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("error %q and stderr %q lack %q", err, stderr.String(), tc.wantMsg)
			}
		})
	}
}

func TestSplitHosts(t *testing.T) {
	f := func(in string, want []string) {
		t.Helper()
		if got := splitHosts(in); !slices.Equal(got, want) {
			t.Errorf("splitHosts(%q) = %#v, want %#v", in, got, want)
		}
	}
	f("", nil)
	f(",,", nil)
	f(defaultHosts, []string{"localhost", "127.0.0.1", "::1"})
	f(" a , b ,", []string{"a", "b"})
}
