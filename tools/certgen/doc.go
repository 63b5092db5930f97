// Package certgen makes self-signed TLS certificates for development and tests.
//
// A test that needs TLS calls [Generate] to get a fresh ECDSA P-256 certificate
// and key for loopback names, so no key material is committed to the repository
// and none outlives the test. The same certificate serves as its own trust
// anchor: a client that adds it to its root pool (or a Node client given it as a
// CA file) verifies the server without disabling verification. ECDSA P-256 is
// the key type production uses, so handshakes in tests cost what they cost in
// production.
//
// The package holds no state; every function is safe for concurrent use.
//
//	certPEM, keyPEM, err := certgen.Generate([]string{"127.0.0.1"}, time.Hour)
//	if err != nil { t.Fatal(err) }
//	pair, err := tls.X509KeyPair(certPEM, keyPEM)
package certgen
