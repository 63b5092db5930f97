package engine

import (
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/panjf2000/gnet/v2"
)

// TLS runs on the event loops with llib's non-blocking TLS: ciphertext that
// gnet read is appended to the session, and plaintext is read until the
// session has no more. Every TLS write happens on the connection's own loop,
// because records carry sequence numbers and must not be reordered.

// readTLS feeds the bytes gnet read to the TLS session and parses the
// plaintext that comes out. Plaintext that ends inside a frame is kept in
// c.tlsIn until the rest arrives.
//
// The records the session writes meanwhile (its handshake flight, session
// tickets, the 101 answer, control frames answered inline) leave together
// in one write at the end.
func (l *loop) readTLS(c *Conn) {
	prev := l.startGather(c)
	ok := l.readRecords(c)
	l.endGather(c, prev)
	if !ok {
		l.tlsFailed(c)
	}
}

// readRecords decrypts and parses what arrived; false means the TLS
// session failed.
func (l *loop) readRecords(c *Conn) bool {
	in, _ := c.gc.Next(-1)
	l.stats.bytesIn += len(in)
	if _, err := c.tc.Append(in); err != nil {
		return false
	}
	for c.state != stateClosed {
		n, err := c.tc.Read(l.readBuf)
		if err != nil {
			return false
		}
		if n == 0 {
			return true
		}
		if !c.tlsReady {
			c.tlsReady = true // the first plaintext: the TLS handshake is done
			l.srv.metrics.tlsHandshakes.Inc()
			releaseHandshake(c.tc)
		}
		l.plaintext(c, l.readBuf[:n])
	}
	return true
}

// tlsWire is the transport under a connection's TLS session. llib writes
// each record as soon as it is sealed; while the loop gathers for this
// connection (startGather), records are collected in the loop's flight
// buffer instead, so a handshake flight or a message longer than one
// record costs one system call, not one per record.
type tlsWire struct {
	gnet.Conn
	c *Conn
}

// Write sends b, or gathers it while the loop gathers for this connection.
func (w *tlsWire) Write(b []byte) (int, error) {
	if l := w.c.loop; l.gather == w.c {
		l.flight = append(l.flight, b...)
		return len(b), nil
	}
	w.c.loop.stats.writes++
	return w.Conn.Write(b)
}

// startGather makes the loop gather c's TLS records and returns the
// connection it gathered for before, whose records are written first. Loop
// only.
func (l *loop) startGather(c *Conn) (prev *Conn) {
	prev = l.gather
	if prev != nil && prev != c {
		l.sendFlight(prev)
	}
	l.gather = c
	return prev
}

// endGather writes c's gathered records and goes back to gathering for
// prev (nil: not gathering), as startGather found it.
func (l *loop) endGather(c, prev *Conn) {
	if prev == c {
		return // an outer startGather for c sends them
	}
	l.sendFlight(c)
	l.gather = prev
}

// sendFlight writes the records gathered for c, if any. It runs before c's
// transport is closed, so nothing gathered is lost.
func (l *loop) sendFlight(c *Conn) {
	if l.gather != c || len(l.flight) == 0 {
		return
	}
	if c.state != stateClosed {
		l.stats.writes++
		_, _ = c.gc.Write(l.flight) // gnet keeps what the socket does not take
	}
	if cap(l.flight) > 1<<20 {
		l.flight = nil // a large message grew it; do not keep the memory
		return
	}
	l.flight = l.flight[:0]
}

// plaintext parses decrypted bytes, joined to what was left before.
func (l *loop) plaintext(c *Conn, p []byte) {
	if c.tlsIn == nil {
		used := l.consume(c, p)
		if c.state != stateClosed && used < len(p) {
			c.tlsIn = getBuf()
			*c.tlsIn = append(*c.tlsIn, p[used:]...)
		}
		return
	}
	buf := append(*c.tlsIn, p...)
	*c.tlsIn = buf
	if c.need > 0 && len(buf) < c.need {
		return
	}
	c.need = 0
	used := l.consume(c, buf)
	if c.state == stateClosed || c.tlsIn == nil {
		return
	}
	rest := copy(buf, buf[used:])
	*c.tlsIn = buf[:rest]
	if rest == 0 {
		putBuf(c.tlsIn)
		c.tlsIn = nil
	}
}

func (l *loop) tlsFailed(c *Conn) {
	l.srv.metrics.tlsErrors.Inc()
	if c.state == stateHandshake {
		c.reason = reasonTLS
	}
	c.state = stateClosing
	l.closeTransport(c)
}

// closeTransport closes the TCP connection after gnet flushed what is queued.
func (l *loop) closeTransport(c *Conn) {
	l.sendFlight(c)
	_ = c.gc.Close()
}

// transport returns where handshake responses are written: the TLS session
// or the raw connection.
func (l *loop) transport(c *Conn) io.Writer {
	if c.tc != nil {
		return c.tc // tlsWire counts its writes
	}
	l.stats.writes++ // callers write one HTTP response
	return c.gc
}

// Certificates holds the server certificate and swaps it atomically, so a
// reload (SIGHUP) affects new handshakes only and never drops a connection.
type Certificates struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCertificates reads a PEM certificate chain and key.
func LoadCertificates(certFile, keyFile string) (*Certificates, error) {
	cs := &Certificates{certFile: certFile, keyFile: keyFile}
	if err := cs.Reload(); err != nil {
		return nil, err
	}
	return cs, nil
}

// Reload reads the files again; on error the current certificate stays.
func (cs *Certificates) Reload() error {
	certPEM, err := os.ReadFile(cs.certFile)
	if err != nil {
		return fmt.Errorf("cannot read certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(cs.keyFile)
	if err != nil {
		return fmt.Errorf("cannot read key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("cannot parse certificate %s and key %s: %w", cs.certFile, cs.keyFile, err)
	}
	if cert.Leaf == nil && len(cert.Certificate) > 0 {
		if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil {
			cert.Leaf = leaf
		}
	}
	cs.cur.Store(&cert)
	return nil
}

// Leaf returns the current leaf certificate, for logs and metrics.
func (cs *Certificates) Leaf() *x509.Certificate { return cs.cur.Load().Leaf }

// TLSConfig returns a server config that serves the current certificate.
// minVersion is tls.VersionTLS13 unless the operator allows 1.2.
func (cs *Certificates) TLSConfig(minVersion uint16) *tls.Config {
	return &tls.Config{
		MinVersion: minVersion,
		// Classical curves only: the hybrid X25519MLKEM768 key exchange that
		// Go offers by default costs about 5x more server CPU per handshake,
		// which a node re-admitting every client after a failover cannot
		// afford.
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return cs.cur.Load(), nil
		},
		NextProtos: []string{"http/1.1"},
	}
}
